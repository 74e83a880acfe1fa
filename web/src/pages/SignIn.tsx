import type { Viewer } from "../api";

/** Placeholder: sign in with a key or a password. */
export function SignIn(props: { onSignedIn: (viewer: Viewer) => void }) {
  void props;
  return <div className="signin" />;
}
