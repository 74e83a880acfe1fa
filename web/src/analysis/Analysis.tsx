/** Placeholder: scatter, parallel coordinates and parameter importance are being built. */
export function Analysis() {
  return <div className="analysis" />;
}
