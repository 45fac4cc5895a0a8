/*
 * quiz.js: the six-question quiz of module 3.
 *
 * Reported to the platform (through ScormSession, see ../shared/scorm2004.js):
 *   at launch:   cmi.completion_status "incomplete" (unless already completed)
 *   on "Check my answers", for each question (the record is found by id, or created):
 *                cmi.interactions.n.id, .type "choice", .description,
 *                .correct_responses.0.pattern (when the record is created),
 *                .learner_response, .result "correct"/"incorrect", .timestamp
 *              then cmi.score.raw/min/max/scaled, cmi.success_status passed/failed against
 *              cmi.scaled_passing_score (0.7 when the platform gives none),
 *              cmi.completion_status "completed", cmi.progress_measure 1, and Commit.
 *   cmi.exit is "normal" after a submission (a later launch is a fresh attempt),
 *   "suspend" when the learner leaves before submitting.
 */
(function (window, document) {
  "use strict";

  var session = window.ScormSession;
  var DEFAULT_PASSING = 0.7;

  // The answer key and the explanation shown after checking.
  var QUESTIONS = [
    {
      key: "q1",
      id: "egov-readiness-q1-egdi-components",
      correct: "b",
      explain: "The EGDI gives equal weight to the Online Service Index, the Telecommunication Infrastructure Index and the Human Capital Index."
    },
    {
      key: "q2",
      id: "egov-readiness-q2-one-stop-portal",
      correct: "c",
      explain: "The portal itself works. The gap is between institutions: the tax authority needs to receive the registration data, so the applicant does not have to bring it."
    },
    {
      key: "q3",
      id: "egov-readiness-q3-rural-connectivity",
      correct: "a",
      explain: "Design for the connections people have today, and keep assisted channels so that nobody is left behind."
    },
    {
      key: "q4",
      id: "egov-readiness-q4-data-sharing",
      correct: "d",
      explain: "Personal data may only be shared for a clear purpose with a legal basis and safeguards, even between government bodies."
    },
    {
      key: "q5",
      id: "egov-readiness-q5-citizen-centred",
      correct: "b",
      explain: "Citizen-centred design starts from what people are trying to do, such as starting a business, and checks the design with the people who will use it."
    },
    {
      key: "q6",
      id: "egov-readiness-q6-staff-readiness",
      correct: "c",
      explain: "Equipment and budgets are inputs. Trained staff who can use the system and help citizens show real readiness."
    }
  ];

  var form = document.getElementById("quiz");
  var message = document.getElementById("quiz-message");
  var retry = document.getElementById("retry");
  var check = document.getElementById("check");
  var result = document.getElementById("quiz-result");
  var resultText = document.getElementById("result-text");

  session.start();
  var canWrite = session.isConnected() && session.mode() !== "review";
  var passing = parseFloat(session.get("cmi.scaled_passing_score"));
  if (isNaN(passing) || passing < -1 || passing > 1) {
    passing = DEFAULT_PASSING;
  }
  var needed = Math.max(0, Math.ceil(passing * QUESTIONS.length - 1e-9));
  document.getElementById("pass-mark").textContent =
    "You need " + needed + " correct answers out of " + QUESTIONS.length +
    " (" + Math.round(passing * 100) + "%) to pass.";

  if (session.get("cmi.completion_status") === "completed") {
    session.setFinished(true);
  } else if (canWrite) {
    session.set("cmi.completion_status", "incomplete");
    session.commit();
  }

  // Interaction records already in this attempt, by id (they may not be in our order).
  var indexById = {};
  var interactionCount = parseInt(session.get("cmi.interactions._count") || "0", 10) || 0;
  for (var i = 0; i < interactionCount; i += 1) {
    var existing = session.get("cmi.interactions." + i + ".id");
    if (existing) {
      indexById[existing] = i;
    }
  }

  function fieldset(question) {
    return form.querySelector('fieldset[data-question="' + question.key + '"]');
  }

  function chosen(question) {
    var input = form.querySelector('input[name="' + question.key + '"]:checked');
    return input ? input.value : null;
  }

  function labelText(question, value) {
    var label = form.querySelector('label[for="' + question.key + "-" + value + '"]');
    return label ? label.textContent : value;
  }

  // The question text, within the 250 characters SCORM guarantees for a description.
  function description(question) {
    var text = fieldset(question).querySelector("legend").textContent.replace(/\s+/g, " ").trim();
    return text.length > 250 ? text.slice(0, 249) + "\u2026" : text;
  }

  function timestamp() {
    return new Date().toISOString().slice(0, 19) + "Z";
  }

  function recordInteraction(question, response, correct) {
    var n = indexById[question.id];
    var prefix;
    if (n === undefined) {
      n = interactionCount;
      prefix = "cmi.interactions." + n + ".";
      if (!session.set(prefix + "id", question.id)) {
        return;
      }
      interactionCount += 1;
      indexById[question.id] = n;
      session.set(prefix + "type", "choice");
      session.set(prefix + "description", description(question));
      session.set(prefix + "correct_responses.0.pattern", question.correct);
    }
    prefix = "cmi.interactions." + n + ".";
    session.set(prefix + "timestamp", timestamp());
    session.set(prefix + "learner_response", response);
    session.set(prefix + "result", correct ? "correct" : "incorrect");
  }

  function setLocked(locked) {
    var inputs = form.querySelectorAll("input");
    for (var k = 0; k < inputs.length; k += 1) {
      inputs[k].disabled = locked;
    }
    check.hidden = locked;
    retry.hidden = !locked;
  }

  function clearFeedback() {
    for (var k = 0; k < QUESTIONS.length; k += 1) {
      var box = fieldset(QUESTIONS[k]);
      box.classList.remove("is-correct", "is-incorrect");
      var old = box.querySelector(".feedback");
      if (old) {
        old.parentNode.removeChild(old);
      }
    }
  }

  function showFeedback(question, correct) {
    var box = fieldset(question);
    box.classList.add(correct ? "is-correct" : "is-incorrect");
    var note = document.createElement("p");
    note.className = "feedback";
    var verdict = document.createElement("strong");
    verdict.textContent = correct
      ? "Correct."
      : "Not quite. The best answer is: " + labelText(question, question.correct) + ".";
    note.appendChild(verdict);
    note.appendChild(document.createTextNode(question.explain));
    box.appendChild(note);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var answers = [];
    var missing = [];
    for (var k = 0; k < QUESTIONS.length; k += 1) {
      var answer = chosen(QUESTIONS[k]);
      answers.push(answer);
      if (!answer) {
        missing.push(k);
      }
    }
    if (missing.length) {
      message.textContent =
        "Please answer " + (missing.length === 1 ? "question " : "questions ") +
        missing.map(function (m) { return m + 1; }).join(", ") + " before checking.";
      fieldset(QUESTIONS[missing[0]]).querySelector("input").focus();
      return;
    }
    message.textContent = "";

    var raw = 0;
    clearFeedback();
    for (var q = 0; q < QUESTIONS.length; q += 1) {
      var correct = answers[q] === QUESTIONS[q].correct;
      if (correct) {
        raw += 1;
      }
      if (canWrite) {
        recordInteraction(QUESTIONS[q], answers[q], correct);
      }
      showFeedback(QUESTIONS[q], correct);
    }
    var scaled = Math.round((raw / QUESTIONS.length) * 10000) / 10000;
    var passed = scaled >= passing;

    if (canWrite) {
      session.set("cmi.score.min", "0");
      session.set("cmi.score.max", String(QUESTIONS.length));
      session.set("cmi.score.raw", String(raw));
      session.set("cmi.score.scaled", String(scaled));
      session.set("cmi.success_status", passed ? "passed" : "failed");
      session.set("cmi.completion_status", "completed");
      session.set("cmi.progress_measure", "1");
      session.commit();
    }
    session.setFinished(true);

    setLocked(true);
    resultText.textContent =
      "You answered " + raw + " of " + QUESTIONS.length + " questions correctly (" +
      Math.round(scaled * 100) + "%). " +
      (passed
        ? "You passed. Well done."
        : "You need " + needed + " correct answers to pass. Read the explanations above, then select Try again.");
    result.hidden = false;
    result.focus();
  });

  retry.addEventListener("click", function () {
    form.reset();
    clearFeedback();
    setLocked(false);
    result.hidden = true;
    message.textContent = "";
    fieldset(QUESTIONS[0]).querySelector("input").focus();
  });
})(window, document);
