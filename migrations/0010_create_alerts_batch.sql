-- Group commit for raises (hand-written; DESIGN.md "The delivery engine"): a batch of raises in one
-- autocommit statement, so one hospital-lock hold and one WAL flush serve the whole batch.
-- p: a JSON array of clarion_create_alert inputs. Returns an array in the same order, each element
-- either clarion_create_alert's answer or { error: { code, message } } for a raise that failed alone.
CREATE OR REPLACE FUNCTION clarion_create_alerts(p jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  raised jsonb[] := '{}';
  r jsonb;
  x jsonb;
  h text;
  out jsonb := '[]';
BEGIN
  -- Every raise's row locks first, each in its own subtransaction: a refused raise (department,
  -- constraint, stale settings) rolls back alone and the rest go on. Raises of the same emergency
  -- later in the batch see the earlier ones' rows and repeat them.
  FOR r IN SELECT value FROM jsonb_array_elements(p) WITH ORDINALITY ORDER BY ordinality LOOP
    BEGIN
      x := clarion_raise_alert(r);
    EXCEPTION WHEN OTHERS THEN
      x := jsonb_build_object('error', jsonb_build_object('code', SQLSTATE, 'message', SQLERRM));
    END;
    raised := array_append(raised, x);
  END LOOP;
  -- Then the hospital locks, last and in one order, held to the commit that ends the statement.
  FOR h IN SELECT DISTINCT e->'alert'->>'hospitalId' FROM unnest(raised) AS e WHERE e ? 'alert' ORDER BY 1 LOOP
    PERFORM clarion_hospital_lock(h);
  END LOOP;
  FOR i IN 1 .. cardinality(raised) LOOP
    out := out || jsonb_build_array(CASE WHEN raised[i] ? 'error' THEN raised[i] ELSE clarion_record_raise(raised[i], p->(i - 1)->'audit') END);
  END LOOP;
  RETURN out;
END $$;
