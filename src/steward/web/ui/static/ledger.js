// Print buttons on ledger pages (no inline scripts: the CSP forbids them).
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    window.print();
  }
});
