//! Local Microsoft identity platform + Graph emulator (see issue 3). Placeholder until it lands.
