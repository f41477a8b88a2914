// The template gallery by category; "Use template" opens one in the builder.
import { get } from '../api';
import { navigate } from '../router';
import type { TemplateList } from '../types';
import { ErrorBox, useLoad } from '../util';

export function TemplatesPage() {
  const { data, error } = useLoad(() => get<TemplateList>('/templates'), []);
  const categories = [...new Set((data?.templates ?? []).map((t) => t.category))];
  return (
    <div className="page">
      <header className="page-head">
        <h1>Templates</h1>
      </header>
      <ErrorBox error={error} />
      {categories.map((c) => (
        <section key={c}>
          <h2>{c}</h2>
          <div className="cards">
            {data!.templates
              .filter((t) => t.category === c)
              .map((t) => (
                <article className="card template" key={t.name} data-testid={`template-${t.name}`}>
                  <h3>{t.name}</h3>
                  <p>{t.description}</p>
                  <dl>
                    <dt>Trigger</dt>
                    <dd>{t.trigger}</dd>
                    <dt>Run as</dt>
                    <dd>{t.run_as}</dd>
                    <dt>Plugins</dt>
                    <dd>{(t.plugins ?? []).join(', ') || '—'}</dd>
                  </dl>
                  <button className="primary" onClick={() => navigate(`/builder?template=${encodeURIComponent(t.name)}`)}>
                    Use template
                  </button>
                </article>
              ))}
          </div>
        </section>
      ))}
    </div>
  );
}
