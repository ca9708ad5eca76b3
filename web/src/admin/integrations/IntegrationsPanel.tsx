import { ApiKeys } from './ApiKeys.js';
import { Webhooks } from './Webhooks.js';
import './Integrations.css';

/** Admin › Integrations: the keys other systems call Clarion with, and the webhooks Clarion calls them at. */
export function IntegrationsPanel() {
  return (
    <section aria-labelledby="integrations-title" className="integrations">
      <h1 id="integrations-title">Integrations</h1>
      <ApiKeys />
      <Webhooks />
    </section>
  );
}
