-- The sync job wrote `ok` as the result of its audit events, where every reader (the admin's
-- audit log filter, the SPA's result badge) expects `success`, `failure` or `denied`. The job
-- now writes `success` (through edu_db::audit::record); this brings the earlier rows in line.
UPDATE audit_log SET result = 'success' WHERE result = 'ok';
