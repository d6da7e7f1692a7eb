// Control page for moderators (fits a 300 px OBS dock). Uses the HttpOnly cookie set by /control?token=...
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

  function renderMeter(peak, rms, speech) {
    var rmsPercent = meterPercent(rms);
    document.getElementById('status-audio-rms').style.width = rmsPercent + '%';
    document.getElementById('status-audio-peak').style.left = 'calc(' + meterPercent(peak) + '% - 2px)';
    document.getElementById('status-audio-meter').setAttribute('aria-valuenow', String(rms === null || rms === undefined ? -60 : Math.max(-60, rms)));
    var dot = document.getElementById('status-speech');
    dot.setAttribute('data-speech', speech === true ? 'true' : 'false');
    dot.title = speech === true ? 'speech' : (speech === false ? 'no speech' : 'no audio');
  }

  function money(amount, currency) {
    var digits = amount !== 0 && Math.abs(amount) < 0.1 ? 4 : 2;
    return (currency === 'USD' ? '$' + amount.toFixed(digits) : amount.toFixed(digits) + ' ' + currency);
  }

  function renderStatus(status) {
    text('status-engine', status.engine);
    text('status-uptime', hoursMinutesSeconds(status.uptimeSeconds));
    text('status-obs', status.obsState);
    document.getElementById('status-paused').hidden = status.muted !== true;
    var level = status.audioLevelDbfs;
    text('status-audio', level === null || level === undefined ? 'no audio' : level.toFixed(1) + ' dBFS');
    renderMeter(level, status.audioRmsDbfs, status.speech);
    text('status-cpm', status.captionsPerMinute.toFixed(1));
    text('status-dropped', String(status.droppedAudioChunks));
    text('status-gate', status.voiceGateOpen === null || status.voiceGateOpen === undefined ? 'off'
      : (status.voiceGateOpen ? 'open' : 'holding silence') + ', ' + hoursMinutesSeconds(status.heldBackSeconds || 0) + ' held back');
    text('status-rates', status.rateLimits.length === 0 ? '–' : status.rateLimits.map(function (r) {
      return r.name + ' ' + r.remaining + '/' + r.limit;
    }).join(', '));
    var costs = status.costs;
    var costOf = {};
    if (costs) {
      costs.languages.forEach(function (c) { costOf[c.language] = c; });
      text('status-cost', money(costs.total, costs.currency) + ' so far' +
        (costs.perHour > 0 ? ', about ' + money(costs.perHour, costs.currency) + '/h' : '') +
        ' (prices of ' + costs.pricesAsOf + ')');
    } else {
      text('status-cost', '–');
    }
    fillList('tracks', status.tracks.map(function (t) {
      var c = costOf[t.language];
      var cost = c && c.cost !== null && c.cost !== undefined
        ? ' · ' + money(c.cost, costs.currency) + (c.costPerHour !== null && c.costPerHour !== undefined ? ' (' + money(c.costPerHour, costs.currency) + '/h)' : '')
        : '';
      var replaced = [[t.rollovers, 'rollover'], [t.reconnects, 'reconnect'], [t.watchdogRestarts, 'watchdog restart']]
        .filter(function (r) { return r[0] > 0; })
        .map(function (r) { return r[0] + ' ' + r[1] + (r[0] === 1 ? '' : 's'); });
      return t.language + ': ' + t.sessionState + cost + (replaced.length ? ' · ' + replaced.join(', ') : '') +
        (t.lastError ? ' (' + t.lastError + ')' : '');
    }));
    fillList('errors', status.recentErrors);
    document.body.setAttribute('data-status-loaded', 'true');
  }

  function pollStatus() {
    fetch('/api/status', { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(renderStatus)
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
