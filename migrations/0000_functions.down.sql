DROP FUNCTION IF EXISTS clarion_hospital_lock(text);
DROP FUNCTION IF EXISTS uuid_v7();
-- pg_trgm stays: other databases' objects in the cluster may use it, and dropping it is not ours to decide.
