//! Microsoft Graph client (see issue 4). Placeholder until the client lands.
