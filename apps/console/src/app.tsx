/**
 * The console's shell: sign-in with a token (checked by MCP `initialize` and `tenants_list`),
 * the language toggle, and the two views — the overview and one call's detail (`#/call/<id>`).
 * The token is kept in sessionStorage (gone when the tab closes), never in a URL.
 */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { CallDetailView } from './detail';
import { DICTS, initialLang, rememberLang, type Dict, type Lang } from './i18n';
import { McpClient, Unauthorized } from './mcp';
import { Overview } from './overview';
import type { Tenants } from './types';

export interface Session {
  client: McpClient;
  tenants: Tenants;
}

export const I18n = createContext<{ t: Dict; lang: Lang }>({ t: DICTS.en, lang: 'en' });
export const useI18n = () => useContext(I18n);

const TOKEN_KEY = 'callbook.console.token';

async function signIn(token: string): Promise<Session> {
  const client = new McpClient(token);
  await client.initialize();
  const tenants = await client.tool<Tenants>('tenants_list');
  return { client, tenants };
}

function Login({ onSession }: { onSession: (s: Session) => void }) {
  const { t } = useI18n();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await signIn(token.trim());
      sessionStorage.setItem(TOKEN_KEY, token.trim());
      onSession(s);
    } catch (err) {
      setError(err instanceof Unauthorized ? (err.throttled ? t.tooMany : t.wrongToken) : `${t.error} ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <h1>{t.loginHeading}</h1>
      <p>{t.loginHelp}</p>
      <form onSubmit={submit}>
        <label for="token">{t.token}</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken(e.currentTarget.value)} aria-describedby={error ? 'login-error' : undefined} />
        <button type="submit" disabled={busy}>
          {busy ? t.signingIn : t.signIn}
        </button>
        <p id="login-error" class="error" role="alert">
          {error ?? ''}
        </p>
      </form>
    </main>
  );
}

function who(t: Dict, s: Session): string {
  const p = s.tenants.principal;
  if (p.kind === 'admin') return t.admin;
  const c = s.tenants.companies[0];
  const b = p.kind === 'branch' ? c?.branches[0] : undefined;
  return [c?.name, b?.name].filter(Boolean).join(' · ') || p.name;
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => Boolean(sessionStorage.getItem(TOKEN_KEY)));
  const [hash, setHash] = useState(location.hash);
  const t = DICTS[lang];

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t.title;
  }, [lang, t]);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (!saved) return;
    signIn(saved)
      .then(setSession, () => sessionStorage.removeItem(TOKEN_KEY))
      .finally(() => setRestoring(false));
  }, []);

  const toggle = () => {
    const next: Lang = lang === 'de' ? 'en' : 'de';
    rememberLang(next);
    setLang(next);
  };
  const signOut = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    setSession(null);
    location.hash = '';
  }, []);

  const callId = /^#\/call\/(.+)$/.exec(hash)?.[1];
  return (
    <I18n.Provider value={{ t, lang }}>
      <a class="skip" href="#main">
        {t.skip}
      </a>
      <header class="top">
        <span class="brand">{t.title}</span>
        {session && (
          <span class="who">
            {t.signedInAs} <strong>{who(t, session)}</strong>
          </span>
        )}
        <span class="actions">
          <button type="button" class="link" onClick={toggle} aria-label={t.languageLabel} lang={lang === 'de' ? 'en' : 'de'}>
            {t.language}
          </button>
          {session && (
            <button type="button" class="link" onClick={signOut}>
              {t.signOut}
            </button>
          )}
        </span>
      </header>
      {session ? (
        callId ? (
          <CallDetailView session={session} callId={decodeURIComponent(callId)} />
        ) : (
          <Overview session={session} onUnauthorized={signOut} />
        )
      ) : restoring ? (
        <main id="main">
          <p>{t.loading}</p>
        </main>
      ) : (
        <Login onSession={setSession} />
      )}
    </I18n.Provider>
  );
}
