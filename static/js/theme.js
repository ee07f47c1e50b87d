// Applies the saved theme before first paint (a classic script in <head>, so it
// runs before the page is drawn; the policy allows no inline script).
document.documentElement.dataset.theme = localStorage.getItem('cc.theme') ||
  (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
