// boot.js starts Sessionguard's WebAssembly build. It checks that the
// browser can run it, fetches and compiles the module named by this
// script's data-wasm attribute, then hides the loading view and runs the
// module with Go's wasm_exec.js (loaded just before this script).
//
// The page's Content-Security-Policy allows no inline code and no eval,
// so everything the page runs is in this file and wasm_exec.js. It stores
// nothing in the browser (no cookies, no storage).
//
// Progress is on <html data-phase>: "loading", then "running" once the
// module is compiled (with the performance mark sessionguard-wasm-ready),
// or "failed" (or "stopped") with the reason shown in #load-error.
"use strict";

(() => {
  const root = document.documentElement;
  const wasmURL = document.currentScript.dataset.wasm;
  const loading = document.getElementById("loading");
  const status = document.getElementById("load-status");
  const errorLine = document.getElementById("load-error");

  // show puts the loading view back over the page with message in place
  // of "Loading…".
  function show(phase, message) {
    root.dataset.phase = phase;
    status.hidden = true;
    errorLine.textContent = message;
    errorLine.hidden = false;
    loading.hidden = false;
  }

  // reason is an error's message without a final full stop (the sentence
  // around it adds one).
  function reason(err) {
    const text = String((err && err.message) || err || "unknown error");
    return text.replace(/\.$/, "");
  }

  // hasWebGL reports whether a canvas gives a WebGL context; it frees the
  // context again (browsers allow only a few at a time).
  function hasWebGL() {
    try {
      const gl = document.createElement("canvas").getContext("webgl2") ||
        document.createElement("canvas").getContext("webgl");
      const lose = gl && gl.getExtension("WEBGL_lose_context");
      if (lose) {
        lose.loseContext();
      }
      return !!gl;
    } catch (e) {
      return false;
    }
  }

  root.dataset.phase = "loading";
  if (typeof WebAssembly !== "object" ||
    typeof WebAssembly.instantiateStreaming !== "function" || !hasWebGL()) {
    show("failed", "This browser can't run Sessionguard: it needs WebAssembly and WebGL.");
    return;
  }
  if (typeof Go !== "function" || !wasmURL) {
    show("failed", "Sessionguard didn't load: part of the page is missing. Reload to try again.");
    return;
  }

  const go = new Go();
  // The app runs until the tab closes; if the Go program ends anyway,
  // say so rather than leave a frozen canvas.
  go.exit = (code) => {
    if (code === 0) {
      show("stopped", "Sessionguard has stopped. Reload to start it again.");
    } else {
      show("failed", `Sessionguard stopped after an error (exit code ${code}). Reload to start it again.`);
    }
  };

  const response = fetch(wasmURL).then((r) => {
    if (!r.ok) {
      throw new Error(`the server answered ${r.status} for the app`);
    }
    return r;
  });
  WebAssembly.instantiateStreaming(response, go.importObject)
    .then((result) => {
      performance.mark("sessionguard-wasm-ready");
      root.dataset.phase = "running";
      loading.hidden = true; // the Fyne canvas takes the page
      go.run(result.instance).catch((err) => {
        show("failed", `Sessionguard stopped after an error: ${reason(err)}. Reload to start it again.`);
      });
    }, (err) => {
      show("failed", `Sessionguard didn't load: ${reason(err)}. Reload to try again.`);
    });
})();
