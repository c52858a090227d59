-- When Microsoft last confirmed the person of this session (issue 17.1): NULL for a session
-- that began with the local password and has not been confirmed by Microsoft since.
ALTER TABLE sessions ADD COLUMN ms_auth_at INTEGER NULL;
