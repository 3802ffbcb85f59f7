// The labeling page: sends the chosen images to POST /api/labels/ with the session
// and CSRF token, waits for the job, and shows each image with its top classes.
(function () {
  "use strict";

  const config = window.LABELING;
  const text = JSON.parse(document.getElementById("labeling-text").textContent);
  const form = document.getElementById("label-form");
  const input = document.getElementById("images");
  const dropZone = document.getElementById("drop-zone");
  const sendButton = document.getElementById("send");
  const statusLine = document.getElementById("status");
  const results = document.getElementById("results");
  // Seconds between two reads of a job that is not finished yet.
  const POLL_SECONDS = 0.5;

  let chosenFiles = [];

  function choose(files) {
    chosenFiles = Array.from(files);
    sendButton.disabled = chosenFiles.length === 0;
    statusLine.textContent = chosenFiles.length ? text.chosen + " " + chosenFiles.length : "";
  }

  input.addEventListener("change", () => choose(input.files));
  ["dragenter", "dragover"].forEach((type) =>
    dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      dropZone.classList.add("over");
    })
  );
  ["dragleave", "drop"].forEach((type) =>
    dropZone.addEventListener(type, () => dropZone.classList.remove("over"))
  );
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    choose(event.dataTransfer.files);
  });

  function request(url, options) {
    const headers = {"X-CSRFToken": config.csrfToken, "Accept": "application/json", "Accept-Language": config.language};
    return fetch(url, Object.assign({credentials: "same-origin", headers: headers}, options)).then((response) =>
      response.json().then((body) => ({status: response.status, body: body}))
    );
  }

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function thumbnailFor(name) {
    const file = chosenFiles.find((candidate) => candidate.name === name);
    if (!file || !file.type.startsWith("image/")) return null;
    const image = element("img");
    image.alt = name;
    image.src = URL.createObjectURL(file);
    return image;
  }

  function showImage(result) {
    const item = element("li", "result");
    item.dataset.status = result.status;
    const thumbnail = thumbnailFor(result.name);
    if (thumbnail) item.appendChild(thumbnail);
    item.appendChild(element("h2", "", result.name));

    if (result.status === "failed") {
      item.appendChild(element("p", "error", result.error));
    } else if (result.label) {
      item.appendChild(element("p", "label", result.label_name));
    } else {
      item.appendChild(element("p", "not-sure", text.notSure));
      item.appendChild(element("p", "reason", result.reason));
    }

    if (result.top.length) {
      const list = element("ol", "top");
      result.top.forEach((score) => {
        const row = element("li");
        const percent = Math.round(score.confidence * 1000) / 10;
        const shown = percent.toLocaleString(config.language, {minimumFractionDigits: 1, maximumFractionDigits: 1});
        row.appendChild(element("span", "class-name", score[text.nameField] + " " + shown + " %"));
        const bar = element("div", "bar");
        const fill = element("span");
        fill.style.width = percent + "%";
        bar.appendChild(fill);
        row.appendChild(bar);
        list.appendChild(row);
      });
      item.appendChild(list);
    }
    results.appendChild(item);
  }

  function show(job) {
    results.replaceChildren();
    job.images.forEach(showImage);
    statusLine.textContent = job.status === "failed" ? text.failed + " " + job.error : text.done;
  }

  function follow(url) {
    return request(url, {method: "GET"}).then((answer) => {
      if (answer.body.status === "done" || answer.body.status === "failed") return show(answer.body);
      return new Promise((resolve) => setTimeout(resolve, POLL_SECONDS * 1000)).then(() => follow(url));
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData();
    chosenFiles.forEach((file) => data.append("images", file, file.name));
    sendButton.disabled = true;
    results.replaceChildren();
    statusLine.textContent = text.sending;

    const query = "?k=" + config.topK + "&wait=" + config.maxWaitSeconds;
    request("/api/labels/" + query, {method: "POST", body: data})
      .then((answer) => {
        if (answer.status === 200) return show(answer.body);
        if (answer.status === 202) {
          statusLine.textContent = text.waiting;
          return follow(answer.body.url);
        }
        statusLine.textContent = answer.body.detail || text.requestFailed;
      })
      .catch(() => {
        statusLine.textContent = text.requestFailed;
      })
      .finally(() => {
        sendButton.disabled = chosenFiles.length === 0;
      });
  });
})();
