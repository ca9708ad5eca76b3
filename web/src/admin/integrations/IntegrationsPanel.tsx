import { ApiKeys } from './ApiKeys.js';
import { Hl7Sources } from './Hl7Sources.js';
import { Webhooks } from './Webhooks.js';
import './Integrations.css';

/** Admin › Integrations: the keys other systems call Clarion with, the webhooks Clarion calls them at, and the HL7 v2 feeds (monitors, nurse call) it listens to. */
export function IntegrationsPanel() {
  return (
    <section aria-labelledby="integrations-title" className="integrations">
      <h1 id="integrations-title">Integrations</h1>
      <ApiKeys />
      <Webhooks />
      <Hl7Sources />
    </section>
  );
}
