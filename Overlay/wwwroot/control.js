// Control page for moderators (fits a 300 px OBS dock). Uses the HttpOnly cookie set by /control?token=...
//
// GET /api/status is the host's own document (the Sidecar's Sidecar/Control/ControlStatus.cs); the overlay library
// passes it through. This page reads these fields and shows nothing (or a dash) for any that is missing:
//   engine, uptimeSeconds, obsState, muted, audioLevelDbfs, audioRmsDbfs, speech, captionsPerMinute,
//   droppedAudioChunks, voiceGateOpen, heldBackSeconds, rateLimits[] {name, remaining, limit},
//   costs {total, perHour, currency, pricesAsOf, languages[] {language, cost, costPerHour}},
//   tracks[] {language, sessionState, lastError, rollovers, reconnects, watchdogRestarts},
//   recentErrors[] (strings), outputs[] {sink, state, lastError, failed, dropped, queued},
//   speakers[] {name, label, colour, language, input, captioned, inputState, inputDetail, levelDbfs, rmsDbfs, speech,
//   mutedInObs} (as GET /api/speakers lists them; PUT /api/speakers/{name} {captioned} mutes or captions one),
//   youTube {on, state, host, language, offsetSeconds, postsSent, linesSent, linesDropped, errors, lastAnswerAt,
//   lastAnswer, problem} (PUT /api/outputs/youtube {enabled, url, language, offsetSeconds} changes it; the URL is a
//   secret: the page never shows it, only its host).
(function () {
  'use strict';

  var message = document.getElementById('message');

  function show(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  function text(id, value) {
    var element = document.getElementById(id);
    if (element.textContent !== value) { element.textContent = value; }
  }

  function explain(response) {
    if (response.status === 401) {
      return 'Not signed in: open the control URL (with its token) that the sidecar printed at start.';
    }
    return response.json().then(function (body) { return body.error || ('Request failed: ' + response.status); },
      function () { return 'Request failed: ' + response.status; });
  }

  function send(method, url, body) {
    var init = { method: method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      if (response.ok) { show(''); return response; }
      return Promise.resolve(explain(response)).then(function (why) { show(why); throw new Error(why); });
    });
  }

  function renderLanguages(list) {
    var ul = document.getElementById('languages');
    list.forEach(function (language) {
      var box = ul.querySelector('input[data-code="' + CSS.escape(language.code) + '"]');
      if (!box) {
        var li = document.createElement('li');
        var label = document.createElement('label');
        box = document.createElement('input');
        box.type = 'checkbox';
        box.setAttribute('data-code', language.code);
        box.addEventListener('change', function (event) { toggle(event.target); });
        var name = document.createElement('span');
        name.textContent = language.name + ' (' + language.code + ')';
        label.appendChild(box);
        label.appendChild(name);
        li.appendChild(label);
        ul.appendChild(li);
      }
      if (!box.disabled) { box.checked = language.enabled; }
      // Wanted on but not running (starting, or its track stopped by itself), or the other way round.
      box.parentNode.setAttribute('data-pending', language.enabled !== language.running ? 'true' : 'false');
    });
  }

  function loadLanguages() {
    return fetch('/api/languages', { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(renderLanguages)
      .catch(function () { show('The sidecar does not answer.'); });
  }

  function toggle(box) {
    var wanted = box.checked;
    box.disabled = true;
    send('PUT', '/api/languages/' + encodeURIComponent(box.getAttribute('data-code')), { enabled: wanted })
      .catch(function () { box.checked = !wanted; })
      .then(function () { box.disabled = false; return loadLanguages(); });
  }

  function hoursMinutesSeconds(seconds) {
    var s = Math.floor(seconds);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return h + 'h ' + (m < 10 ? '0' : '') + m + 'm ' + ((s % 60) < 10 ? '0' : '') + (s % 60) + 's';
  }

  function fillList(id, items) {
    var ul = document.getElementById(id);
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    items.forEach(function (item) {
      var li = document.createElement('li');
      li.textContent = item;
      ul.appendChild(li);
    });
  }

  // Position on the -60..0 dBFS bar, in percent; null (silence or no audio) sits at the left end.
  function meterPercent(dbfs) {
    if (dbfs === null || dbfs === undefined) { return 0; }
    return Math.min(100, Math.max(0, (dbfs + 60) / 60 * 100));
  }

  // A level meter (.level with its .level-rms bar and .level-peak tick) and a speech dot (.speech).
  function fillMeter(meter, dot, peak, rms, speech) {
    meter.querySelector('.level-rms').style.width = meterPercent(rms) + '%';
    meter.querySelector('.level-peak').style.left = 'calc(' + meterPercent(peak) + '% - 2px)';
    meter.setAttribute('aria-valuenow', String(rms === null || rms === undefined ? -60 : Math.max(-60, rms)));
    dot.setAttribute('data-speech', speech === true ? 'true' : 'false');
    dot.title = speech === true ? 'speech' : (speech === false ? 'no speech' : 'no audio');
  }

  function renderMeter(peak, rms, speech) {
    fillMeter(document.getElementById('status-audio-meter'), document.getElementById('status-speech'), peak, rms, speech);
  }

  function element(tag, className) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    return e;
  }

  function setText(e, value) {
    if (e.textContent !== value) { e.textContent = value; }
  }

  var colourPattern = /^#[0-9a-fA-F]{6}$/;

  // The name as moderators know the speaker: the unnamed speaker (no --speaker) is its input.
  function speakerTitle(speaker) {
    return speaker.label === false ? String(speaker.input || speaker.name) : String(speaker.name);
  }

  function newSpeakerRow(name) {
    var li = element('li');
    li.setAttribute('data-speaker', name);
    var head = element('div', 'speaker-head');
    head.appendChild(element('span', 'speaker-name'));
    head.appendChild(element('span', 'speaker-language'));
    var toggle = element('button', 'speaker-toggle');
    toggle.type = 'button';
    toggle.addEventListener('click', function () { toggleSpeaker(li, toggle); });
    head.appendChild(toggle);
    var levels = element('div', 'speaker-levels');
    var meter = element('span', 'level');
    meter.setAttribute('role', 'meter');
    meter.setAttribute('aria-valuemin', '-60');
    meter.setAttribute('aria-valuemax', '0');
    meter.appendChild(element('span', 'level-rms'));
    meter.appendChild(element('span', 'level-peak'));
    levels.appendChild(meter);
    levels.appendChild(element('span', 'speech'));
    levels.appendChild(element('span', 'speaker-state'));
    var detail = element('div', 'speaker-detail');
    detail.hidden = true;
    li.appendChild(head);
    li.appendChild(levels);
    li.appendChild(detail);
    return li;
  }

  // Status polls are numbered as they start; a toggle's answer is newer than any poll started before it arrived, so
  // such a poll must not put the old state back (it would flicker back for half a second).
  var statusPolls = 0;

  function renderSpeaker(li, speaker, poll) {
    var title = speakerTitle(speaker);
    var name = li.querySelector('.speaker-name');
    setText(name, title);
    name.title = title;
    // Only a plain #rrggbb reaches the style: the host's text never becomes CSS.
    name.style.color = speaker.label !== false && typeof speaker.colour === 'string' && colourPattern.test(speaker.colour) ? speaker.colour : '';
    setText(li.querySelector('.speaker-language'), speaker.language ? String(speaker.language) : '');
    var toggle = li.querySelector('.speaker-toggle');
    if (!toggle.disabled && (poll === undefined || poll >= Number(li.getAttribute('data-fresh-from') || 0))) {
      var captioned = speaker.captioned !== false;
      li.setAttribute('data-captioned', captioned ? 'true' : 'false');
      setText(toggle, captioned ? 'Captioned' : 'Muted');
      toggle.title = (captioned ? 'Captioned: click to mute ' : 'Muted (nothing sent): click to caption ') + title;
    }
    var meter = li.querySelector('.level');
    meter.setAttribute('aria-label', title + ' level, -60 to 0 dBFS');
    fillMeter(meter, li.querySelector('.speech'), speaker.levelDbfs, speaker.rmsDbfs, speaker.speech);
    var state = typeof speaker.inputState === 'string' && speaker.inputState ? speaker.inputState : '–';
    li.setAttribute('data-input', state);
    var stateText = state + (speaker.mutedInObs === true ? ' · muted in OBS' : '');
    var stateElement = li.querySelector('.speaker-state');
    setText(stateElement, stateText);
    stateElement.title = speaker.input ? String(speaker.input) : '';
    var detail = li.querySelector('.speaker-detail');
    setText(detail, speaker.inputDetail ? String(speaker.inputDetail) : '');
    detail.hidden = !speaker.inputDetail;
  }

  function renderSpeakers(speakers, poll) {
    var list = Array.isArray(speakers) ? speakers.filter(function (s) { return s && typeof s.name === 'string'; }) : [];
    document.getElementById('speakers-section').hidden = list.length === 0;
    var ul = document.getElementById('speakers');
    var rows = Object.create(null); // no prototype: a name is only ever a key
    Array.prototype.forEach.call(ul.children, function (li) { rows[li.getAttribute('data-speaker')] = li; });
    Object.keys(rows).forEach(function (name) {
      if (!list.some(function (s) { return s.name === name; })) { ul.removeChild(rows[name]); }
    });
    list.forEach(function (speaker, index) {
      var li = rows[speaker.name] || newSpeakerRow(speaker.name);
      renderSpeaker(li, speaker, poll);
      // In the host's order; a row already in place is not moved (that would drop a click in progress).
      if (ul.children[index] !== li) { ul.insertBefore(li, ul.children[index] || null); }
    });
  }

  function toggleSpeaker(li, toggle) {
    var name = li.getAttribute('data-speaker');
    var wanted = li.getAttribute('data-captioned') === 'false';
    toggle.disabled = true;
    send('PUT', '/api/speakers/' + encodeURIComponent(name), { captioned: wanted })
      .then(function (response) { return response.json(); })
      .then(function (speaker) {
        toggle.disabled = false;
        li.setAttribute('data-fresh-from', String(statusPolls + 1));
        if (speaker && speaker.name === name) { renderSpeaker(li, speaker); }
      }, function () { toggle.disabled = false; });
  }

  function money(amount, currency) {
    var digits = amount !== 0 && Math.abs(amount) < 0.1 ? 4 : 2;
    return (currency === 'USD' ? '$' + amount.toFixed(digits) : amount.toFixed(digits) + ' ' + currency);
  }

  function number(value) {
    return typeof value === 'number' && isFinite(value) ? value : 0;
  }

  function plural(count, word) {
    return count + ' ' + word + (count === 1 ? '' : 's');
  }

  // One line per output; an output that failed (or says it is not ok) is marked so it stands out.
  function renderOutputs(outputs) {
    var ul = document.getElementById('outputs');
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    outputs.forEach(function (o) {
      var failed = number(o.failed);
      var dropped = number(o.dropped);
      var state = typeof o.state === 'string' && o.state ? o.state : (failed > 0 || o.lastError ? 'failing' : 'ok');
      var failing = state !== 'ok' || failed > 0 || !!o.lastError;
      var details = [];
      if (failed > 0) { details.push(failed + ' failed'); }
      if (dropped > 0) { details.push(dropped + ' dropped'); }
      if (number(o.queued) > 0) { details.push(number(o.queued) + ' queued'); }
      var li = document.createElement('li');
      li.setAttribute('data-failing', failing ? 'true' : 'false');
      li.textContent = (o.sink || o.name || '?') + ': ' + state + (details.length ? ' · ' + details.join(', ') : '') +
        (o.lastError ? ' (' + o.lastError + ')' : '');
      ul.appendChild(li);
    });
  }

  // The YouTube output: its state in words, and a form whose fields are filled from the status until a moderator
  // edits them (a poll never overwrites what is being typed).
  var youTubeEditing = false;
  function renderYouTube(youTube) {
    var section = document.getElementById('youtube-section');
    section.hidden = !youTube;
    if (!youTube) { return; }
    var words;
    if (!youTube.host) { words = 'off: no ingestion URL set'; }
    else if (!youTube.on) { words = 'off (' + youTube.host + ')'; }
    else if (youTube.problem) { words = youTube.problem; }
    else {
      words = youTube.state + ' · ' + youTube.language + ' to ' + youTube.host + ' · ' + number(youTube.linesSent) + ' lines in ' +
        number(youTube.postsSent) + ' posts';
      if (number(youTube.linesDropped) > 0) { words += ', ' + number(youTube.linesDropped) + ' dropped'; }
      if (number(youTube.errors) > 0) { words += ', ' + number(youTube.errors) + ' errors'; }
      if (youTube.lastAnswer) { words += ' · last answer ' + youTube.lastAnswer; }
    }
    text('youtube-state', words);
    section.setAttribute('data-state', youTube.on ? youTube.state : 'off');
    if (youTubeEditing) { return; }
    document.getElementById('youtube-enabled').checked = !!youTube.on;
    var select = document.getElementById('youtube-language');
    var codes = Array.prototype.map.call(document.querySelectorAll('#languages input[data-code]'), function (box) {
      return box.getAttribute('data-code');
    });
    if (codes.indexOf(youTube.language) < 0) { codes.push(youTube.language); }
    if (select.options.length !== codes.length) {
      select.textContent = '';
      codes.forEach(function (code) {
        var option = document.createElement('option');
        option.value = code;
        option.textContent = code;
        select.appendChild(option);
      });
    }
    select.value = youTube.language;
    document.getElementById('youtube-offset').value = String(number(youTube.offsetSeconds));
    document.getElementById('youtube-url').placeholder = youTube.host ? 'unchanged (' + youTube.host + ')' : 'paste it from YouTube Studio';
  }

  (function wireYouTube() {
    var form = document.getElementById('youtube-form');
    form.addEventListener('input', function () { youTubeEditing = true; });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var body = {
        enabled: document.getElementById('youtube-enabled').checked,
        language: document.getElementById('youtube-language').value,
        offsetSeconds: parseFloat(document.getElementById('youtube-offset').value || '0')
      };
      var url = document.getElementById('youtube-url').value.trim();
      if (url) { body.url = url; }
      send('PUT', '/api/outputs/youtube', body).then(function (response) { return response.json(); }).then(function (youTube) {
        document.getElementById('youtube-url').value = '';
        youTubeEditing = false;
        renderYouTube(youTube);
      }, function () { /* shown by send() */ });
    });
  })();

  function renderErrors(errors) {
    fillList('errors', errors);
    var box = document.getElementById('errors-box');
    box.hidden = errors.length === 0;
    text('errors-title', errors.length === 1 ? '1 error' : errors.length + ' errors');
  }

  function renderStatus(status, poll) {
    text('status-engine', status.engine || '–');
    text('status-uptime', hoursMinutesSeconds(number(status.uptimeSeconds)));
    text('status-obs', status.obsState || '–');
    document.getElementById('status-paused').hidden = status.muted !== true;
    var level = status.audioLevelDbfs;
    text('status-audio', level === null || level === undefined ? 'no audio' : level.toFixed(1) + ' dBFS');
    renderMeter(level, status.audioRmsDbfs, status.speech);
    text('status-cpm', number(status.captionsPerMinute).toFixed(1));
    text('status-dropped', String(number(status.droppedAudioChunks)));
    text('status-gate', status.voiceGateOpen === null || status.voiceGateOpen === undefined ? 'off'
      : (status.voiceGateOpen ? 'open' : 'holding silence') + ', ' + hoursMinutesSeconds(status.heldBackSeconds || 0) + ' held back');
    var rateLimits = status.rateLimits || [];
    text('status-rates', rateLimits.length === 0 ? '–' : rateLimits.map(function (r) {
      return r.name + ' ' + r.remaining + '/' + r.limit;
    }).join(', '));
    var costs = status.costs;
    var costOf = {};
    if (costs) {
      (costs.languages || []).forEach(function (c) { costOf[c.language] = c; });
      text('status-cost', money(costs.total, costs.currency) + ' so far' +
        (costs.perHour > 0 ? ', about ' + money(costs.perHour, costs.currency) + '/h' : '') +
        ' (prices of ' + costs.pricesAsOf + ')');
    } else {
      text('status-cost', '–');
    }
    fillList('tracks', (status.tracks || []).map(function (t) {
      var c = costOf[t.language];
      var cost = c && c.cost !== null && c.cost !== undefined
        ? ' · ' + money(c.cost, costs.currency) + (c.costPerHour !== null && c.costPerHour !== undefined ? ' (' + money(c.costPerHour, costs.currency) + '/h)' : '')
        : '';
      var replaced = [[number(t.rollovers), 'rollover'], [number(t.reconnects), 'reconnect'], [number(t.watchdogRestarts), 'watchdog restart']]
        .filter(function (r) { return r[0] > 0; })
        .map(function (r) { return plural(r[0], r[1]); });
      return t.language + ': ' + t.sessionState + cost + (replaced.length ? ' · ' + replaced.join(', ') : '') +
        (t.lastError ? ' (' + t.lastError + ')' : '');
    }));
    renderErrors(status.recentErrors || []);
    renderOutputs(status.outputs || []);
    renderSpeakers(status.speakers, poll);
    renderYouTube(status.youTube);
    document.body.setAttribute('data-status-loaded', 'true');
  }

  function pollStatus() {
    var poll = ++statusPolls;
    fetch('/api/status', { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (status) { renderStatus(status, poll); })
      .catch(function () { show('The sidecar does not answer.'); })
      .then(function () { setTimeout(pollStatus, 500); }); // often enough for the level meter to look live
  }

  document.getElementById('clear').addEventListener('click', function () {
    send('POST', '/api/captions/clear').catch(function () { });
  });
  document.getElementById('test').addEventListener('click', function () {
    send('POST', '/api/captions/test').catch(function () { });
  });

  var overlayUrl = document.getElementById('overlay-url');
  overlayUrl.value = window.location.origin + '/overlay';
  document.getElementById('copy').addEventListener('click', function () {
    overlayUrl.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(overlayUrl.value).catch(function () { document.execCommand('copy'); });
    } else {
      document.execCommand('copy');
    }
  });

  loadLanguages();
  setInterval(loadLanguages, 5000);
  pollStatus();
})();
