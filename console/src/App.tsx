// The console's frame: sign-in, navigation, and the screens by path.
import { lazy, Suspense, useEffect, useState } from 'react';
import { getToken, onUnauthorized, setToken } from './api';
import { Link, match, navigate, useLocation } from './router';
import { AuditPage } from './pages/Audit';
import { ConnectorsPage } from './pages/Connectors';
import { NewWorkflowPage } from './pages/NewWorkflow';
import { NodesPage } from './pages/Nodes';
import { PluginPage, PluginsPage } from './pages/Plugins';
import { RunFormPage } from './pages/RunForm';
import { RunsPage } from './pages/Runs';
import { SignIn } from './pages/SignIn';
import { TemplatesPage } from './pages/Templates';
import { TokensPage } from './pages/Tokens';
import { WorkflowsPage } from './pages/Workflows';

// The graph and the editor (React Flow, dagre, CodeMirror) load with the screens that use
// them, so signing in and the lists load little.
const BuilderPage = lazy(() => import('./pages/Builder').then((m) => ({ default: m.BuilderPage })));
const RunPage = lazy(() => import('./pages/Run').then((m) => ({ default: m.RunPage })));

const NAV: [string, string][] = [
  ['/workflows', 'Workflows'],
  ['/templates', 'Templates'],
  ['/runs', 'Runs'],
  ['/plugins', 'Plugins'],
  ['/connectors', 'Connectors'],
  ['/audit', 'Audit log'],
  ['/nodes', 'Nodes'],
  ['/tokens', 'Tokens'],
];

function Screen({ path, query }: { path: string; query: URLSearchParams }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '/workflows') return <WorkflowsPage />;
  if (path === '/workflows/new') return <NewWorkflowPage />;
  if (path === '/builder') return <BuilderPage key={`new-${query.get('template') ?? ''}`} name={null} template={query.get('template')} />;
  if ((m = match('/workflows/:name/run', path))) return <RunFormPage key={m.name} name={m.name} from={query.get('from')} />;
  if ((m = match('/workflows/:name', path))) return <BuilderPage key={m.name} name={m.name} template={null} />;
  if (path === '/templates') return <TemplatesPage />;
  if (path === '/runs') return <RunsPage workflow={query.get('workflow')} status={query.get('status')} />;
  if ((m = match('/runs/:id', path))) return <RunPage key={m.id} id={m.id} />;
  if (path === '/plugins') return <PluginsPage />;
  if ((m = match('/plugins/:id', path))) return <PluginPage key={m.id} id={m.id} />;
  if (path === '/connectors') return <ConnectorsPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/nodes') return <NodesPage />;
  if (path === '/tokens') return <TokensPage />;
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/workflows">Back to the workflows</Link>.
      </p>
    </div>
  );
}

export function App() {
  const [token, setTok] = useState(getToken());
  const [notice, setNotice] = useState<string | null>(null);
  const { path, query } = useLocation();
  useEffect(
    () =>
      onUnauthorized(() => {
        setToken(null);
        setTok(null);
        setNotice('Your token is no longer accepted (it was revoked, or the service was reset). Sign in again.');
      }),
    [],
  );
  if (!token) {
    return (
      <SignIn
        notice={notice}
        onSignIn={(t) => {
          setToken(t);
          setTok(t);
          setNotice(null);
        }}
      />
    );
  }
  const section = '/' + (path.split('/')[1] || 'workflows');
  return (
    <div className="app">
      <nav className="nav" aria-label="Main">
        <div className="brand">Sluice</div>
        {NAV.map(([to, label]) => (
          <Link key={to} to={to} className={section === to || (to === '/workflows' && section === '/builder') ? 'active' : ''}>
            {label}
          </Link>
        ))}
        <button
          className="link signout"
          onClick={() => {
            setToken(null);
            setTok(null);
            navigate('/', true);
          }}
        >
          Sign out
        </button>
      </nav>
      <main className="main">
        <Suspense fallback={<div className="page muted">Loading…</div>}>
          <Screen path={path} query={query} />
        </Suspense>
      </main>
    </div>
  );
}
