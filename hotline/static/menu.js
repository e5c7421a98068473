// The header's menu button at phone width. Loaded in <head> (CSP allows only 'self' scripts): it marks
// the page as scripted at once, so CSS folds the menu only when this button can open it again.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  const header = document.querySelector("header.top");
  const toggle = header && header.querySelector(".menu-toggle");
  if (!toggle) return;
  toggle.addEventListener("click", () => {
    const open = header.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
});
