// Sign in with an API key or a user name and password. The server answers with the viewer
// and sets the `heron_key` cookie; then the page goes where the user was headed (`next`).
import { useState, type FormEvent } from "react";
import { api, ApiError, type Viewer } from "../api";
import { navigate, useQueryParam } from "../router";
import { safeNext } from "./next";
import "./pages.css";

export function SignIn(props: { onSignedIn: (viewer: Viewer) => void }) {
  const [next] = useQueryParam("next");
  const [mode, setMode] = useState<"key" | "password">("key");
  const [key, setKey] = useState("");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const viewer = await api.signIn(mode === "key" ? { key: key.trim() } : { user: user.trim(), password });
      props.onSignedIn(viewer);
      navigate(safeNext(next));
    } catch (e) {
      if (e instanceof ApiError) {
        setError(e.status === 401 ? `${e.message} (check the ${mode === "key" ? "key" : "user name and password"})` : e.message);
      } else setError(`Could not reach the server: ${String(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <div className="signin-card">
        <h1>Sign in to Heron</h1>
        <div className="signin-modes" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={mode === "key"}
            className={mode === "key" ? "tab active" : "tab"}
            onClick={() => setMode("key")}
            data-testid="signin-mode-key"
          >
            API key
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === "password"}
            className={mode === "password" ? "tab active" : "tab"}
            onClick={() => setMode("password")}
            data-testid="signin-mode-password"
          >
            User and password
          </button>
        </div>
        <form onSubmit={submit} className="signin-form">
          {mode === "key" ? (
            <label>
              API key
              <input
                type="password"
                name="key"
                autoComplete="current-password"
                placeholder="heron_…"
                value={key}
                onChange={(event) => setKey(event.target.value)}
                data-testid="signin-key"
                autoFocus
                required
              />
            </label>
          ) : (
            <>
              <label>
                User
                <input
                  name="username"
                  autoComplete="username"
                  value={user}
                  onChange={(event) => setUser(event.target.value)}
                  data-testid="signin-user"
                  autoFocus
                  required
                />
              </label>
              <label>
                Password
                <input
                  type="password"
                  name="password"
                  autoComplete="current-password"
                  value={password}
                  onChange={(event) => setPassword(event.target.value)}
                  data-testid="signin-password"
                  required
                />
              </label>
            </>
          )}
          {error && (
            <p className="error" role="alert" data-testid="signin-error">
              {error}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy} data-testid="signin-submit">
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
        <div className="signin-help">
          <p>
            <b>First time?</b> When the server starts on an empty data folder it prints a one-time link,{" "}
            <code>http://HOST:PORT/login?token=…</code> (valid 24 hours). Opening it signs this browser in directly.
          </p>
          <p>
            <b>Where is my key?</b> The first start also prints the admin's API key once and saves it in the credentials file
            (<code>~/.config/heron/credentials.toml</code>, one table per server URL). <code>heron login --host URL</code> checks a
            key and stores it there; SDKs and the CLI read it from that file or from <code>HERON_API_KEY</code>.
          </p>
          <p>
            A password works once it has been set: sign in with the key, then use <i>Account → Set password</i> on the projects page.
          </p>
        </div>
      </div>
    </div>
  );
}
