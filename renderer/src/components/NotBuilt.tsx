/** A view named in the navigation whose screen has not been written yet (said plainly, not faked). */
export function NotBuilt({ title }: { title: string }) {
  return (
    <section className="pane" aria-labelledby="notbuilt-heading">
      <header className="pane-header">
        <h2 id="notbuilt-heading">{title}</h2>
      </header>
      <p className="empty">This view is not built yet.</p>
    </section>
  );
}
