// The public share page: the before/after slider over the photo and the sketch.

import { setupCompare } from "./compare.js";

const container = document.getElementById("share-compare");
if (container) {
  const { width, height } = container.dataset;
  if (width && height) container.style.aspectRatio = `${width} / ${height}`;
  setupCompare(container, document.getElementById("share-compare-range"));
  // A photo that does not load leaves the sketch alone, without a slider over nothing.
  container.querySelector(".before").addEventListener("error", () => container.classList.add("only-result"));
}
