-- A workflow's execution slot taken in one call (one statement, one round trip).
--
-- One node at a time counts and takes a workflow's slots: a lock for the transaction,
-- keyed by `lock_key` and the workflow. The count runs after the lock is held and sees what
-- every other holder committed (each statement of a volatile function takes a snapshot of
-- its own). Answers 'taken' (the run holds a slot, now or already), 'full' (the run is this
-- node's and every slot is busy) or 'not_held' (another node holds the run, or nobody).
CREATE FUNCTION take_slot(
    p_run text, p_node text, p_workflow text, p_limit bigint, lock_key integer
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key, hashtext(p_workflow));
    UPDATE run_leases SET executing = true
     WHERE run = p_run AND node = p_node
       AND (executing OR (SELECT count(*) FROM run_leases
                          WHERE workflow = p_workflow AND executing AND expires_at > now())
                         < p_limit);
    IF FOUND THEN
        RETURN 'taken';
    END IF;
    IF EXISTS (SELECT 1 FROM run_leases WHERE run = p_run AND node = p_node) THEN
        RETURN 'full';
    END IF;
    RETURN 'not_held';
END
$$;
