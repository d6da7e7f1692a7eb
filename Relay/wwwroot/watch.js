// The viewer page of a caption relay: pick a language, read its captions live. Plain JS, no framework, no build.
// Query parameters: stream=NAME (required), lang=xx (preferred language), lines=3 (lines shown).
(function () {
  'use strict';

  var params = new URLSearchParams(window.location.search);
  var stream = (params.get('stream') || '').trim().toLowerCase();
  var maxLines = Math.min(10, Math.max(1, parseInt(params.get('lines') || '3', 10) || 3));
  var PAUSED_AFTER_MS = 10000;
  var LANGUAGES_EVERY_MS = 30000;
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_CAP_MS = 15000;
  var SIZES = [18, 22, 26, 32, 40, 48, 60, 72];

  var body = document.body;
  var root = document.documentElement;
  var picker = document.getElementById('language');
  var theme = document.getElementById('theme');
  var status = document.getElementById('status');
  var captions = document.getElementById('captions');
  var spoken = document.getElementById('spoken');

  // localStorage can throw (a sandboxed embed, storage turned off): then nothing is remembered.
  function load(key) { try { return window.localStorage.getItem('captions.' + key); } catch (e) { return null; } }
  function save(key, value) { try { window.localStorage.setItem('captions.' + key, value); } catch (e) { /* not remembered */ } }

  function setState(state, text) {
    body.setAttribute('data-state', state);
    status.textContent = text;
  }

  // ---- Display settings ----
  var sizeIndex = SIZES.indexOf(parseInt(load('size') || '', 10));
  if (sizeIndex < 0) { sizeIndex = 3; }
  function applySize() {
    root.style.setProperty('--size', SIZES[sizeIndex] + 'px');
    document.getElementById('smaller').disabled = sizeIndex === 0;
    document.getElementById('larger').disabled = sizeIndex === SIZES.length - 1;
  }
  document.getElementById('smaller').addEventListener('click', function () {
    sizeIndex = Math.max(0, sizeIndex - 1); save('size', String(SIZES[sizeIndex])); applySize();
  });
  document.getElementById('larger').addEventListener('click', function () {
    sizeIndex = Math.min(SIZES.length - 1, sizeIndex + 1); save('size', String(SIZES[sizeIndex])); applySize();
  });
  applySize();

  var themes = ['dark', 'light', 'contrast'];
  var chosenTheme = load('theme');
  if (themes.indexOf(chosenTheme) < 0) {
    chosenTheme = window.matchMedia && window.matchMedia('(prefers-contrast: more)').matches ? 'contrast'
      : window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }
  function applyTheme(value) { root.setAttribute('data-theme', value); theme.value = value; }
  theme.addEventListener('change', function () { save('theme', theme.value); applyTheme(theme.value); });
  applyTheme(chosenTheme);

  if (!/^[a-z0-9-]{1,64}$/.test(stream)) {
    picker.disabled = true;
    setState('error', 'This page needs the stream in its address: /watch?stream=NAME (letters, digits and dashes).');
    return;
  }
  document.getElementById('stream').textContent = stream;
  document.title = stream + ' · live captions';

  // ---- Languages ----
  var names = typeof Intl !== 'undefined' && Intl.DisplayNames ? new Intl.DisplayNames([navigator.language || 'en'], { type: 'language' }) : null;
  function nameOf(code) {
    var name = null;
    try { name = names ? names.of(code) : null; } catch (e) { name = null; }
    return name && name.toLowerCase() !== code ? name + ' (' + code + ')' : code;
  }

  var current = '';

  function choose(list) {
    var wanted = [(params.get('lang') || '').toLowerCase(), current, (load('lang.' + stream) || '')]
      .concat((navigator.languages || [navigator.language || '']).map(function (l) { return String(l).toLowerCase(); }));
    for (var i = 0; i < wanted.length; i++) {
      if (!wanted[i]) { continue; }
      if (list.indexOf(wanted[i]) >= 0) { return wanted[i]; }
      var base = wanted[i].split('-')[0];
      if (list.indexOf(base) >= 0) { return base; }
    }
    return list[0];
  }

  var shown = null;

  function showLanguages(list) {
    var options = list.slice();
    // The language being read stays in the list while it is away, marked so.
    if (current && options.indexOf(current) < 0) { options.push(current); }
    // Rebuilt only when it changed, so a picker a viewer has open is not closed under them.
    var key = list.join(',') + '|' + options.join(',');
    if (key === shown) { return; }
    shown = key;
    picker.textContent = '';
    options.forEach(function (code) {
      var option = document.createElement('option');
      option.value = code;
      option.textContent = list.indexOf(code) >= 0 ? nameOf(code) : nameOf(code) + ' (off)';
      picker.appendChild(option);
    });
    picker.disabled = options.length === 0;
    if (current) { picker.value = current; }
  }

  function fetchLanguages() {
    return fetch('/api/watch/languages?stream=' + encodeURIComponent(stream), { cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) { throw new Error('languages answered ' + response.status); }
        return response.json();
      })
      .then(function (answer) {
        var list = Array.isArray(answer.languages) ? answer.languages.filter(function (l) { return typeof l === 'string'; }) : [];
        showLanguages(list);
        return list;
      });
  }

  // ---- Captions ----
  var lastSequence = -1;
  var announced = [];
  var announceTimer = null;
  var pausedTimer = null;

  function setText(span, text) {
    if (!span.firstChild) { span.appendChild(document.createTextNode('')); }
    if (span.firstChild.nodeValue !== text) { span.firstChild.nodeValue = text; }
  }

  // Screen readers hear each line once, when it is finished: when a later line exists, or when the last line has
  // had no tentative words for a moment. Tentative words are never read out.
  function announce(text) {
    text = text.trim();
    if (!text || announced.indexOf(text) >= 0) { return; }
    announced.push(text);
    if (announced.length > 50) { announced.shift(); }
    var entry = document.createElement('p');
    entry.textContent = text;
    spoken.appendChild(entry);
    while (spoken.children.length > 20) { spoken.removeChild(spoken.firstChild); }
  }

  function render(update) {
    var lines = update.cleared ? [] : update.lines.slice(-maxLines);
    for (var i = 0; i < lines.length; i++) {
      var line = captions.children[i];
      if (!line) {
        line = document.createElement('div');
        line.className = 'line';
        ['speaker', 'final', 'tentative'].forEach(function (name) {
          var span = document.createElement('span');
          span.className = name;
          line.appendChild(span);
        });
        captions.appendChild(line);
      }
      var label = typeof lines[i].label === 'string' ? lines[i].label : '';
      var startsBlock = label && (i === 0 || lines[i - 1].label !== label);
      var speaker = line.querySelector('.speaker');
      setText(speaker, startsBlock ? label + ':' : '');
      speaker.style.color = startsBlock && /^#[0-9a-fA-F]{6}$/.test(lines[i].colour || '') ? lines[i].colour : '';
      setText(line.querySelector('.final'), lines[i].final);
      setText(line.querySelector('.tentative'), lines[i].tentative ? ' ' + lines[i].tentative.replace(/^\s+/, '') : '');
      if (i < lines.length - 1) { announce(lines[i].final + lines[i].tentative); }
    }
    while (captions.children.length > lines.length) { captions.removeChild(captions.lastChild); }
    captions.setAttribute('data-sequence', String(update.sequence));

    if (announceTimer !== null) { clearTimeout(announceTimer); announceTimer = null; }
    var last = lines[lines.length - 1];
    if (last && !last.tentative && last.final) {
      announceTimer = setTimeout(function () { announceTimer = null; announce(last.final); }, 1500);
    }
  }

  function clearCaptions() {
    captions.textContent = '';
    lastSequence = -1;
    if (announceTimer !== null) { clearTimeout(announceTimer); announceTimer = null; }
  }

  function armPaused() {
    if (pausedTimer !== null) { clearTimeout(pausedTimer); }
    pausedTimer = setTimeout(function () {
      pausedTimer = null;
      if (body.getAttribute('data-state') === 'live') {
        setState('paused', 'Captions paused: the stream has sent none for a while. They come back here when it does.');
      }
    }, PAUSED_AFTER_MS);
  }

  // ---- Connection: one socket, reconnect with exponential backoff and full jitter ----
  var socket = null;
  var attempt = 0;
  var retryTimer = null;

  function backoff() {
    var ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 10);
    return Math.random() * ceiling;
  }

  function retryLater(state, text) {
    setState(state, text);
    if (retryTimer !== null) { clearTimeout(retryTimer); }
    retryTimer = setTimeout(function () { retryTimer = null; start(); }, backoff());
  }

  function open(language) {
    if (socket) {
      var old = socket;
      socket = null;
      old.onclose = null;
      old.close();
    }
    clearCaptions();
    current = language;
    picker.value = language;
    captions.setAttribute('data-language', language);
    captions.setAttribute('lang', language);
    var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new WebSocket(scheme + window.location.host + '/ws/watch?stream=' + encodeURIComponent(stream) + '&lang=' + encodeURIComponent(language));
    socket = ws;
    ws.onopen = function () {
      if (socket !== ws) { return; }
      setState('live', 'Live: ' + nameOf(language));
      armPaused();
    };
    ws.onmessage = function (event) {
      if (socket !== ws) { return; }
      var update;
      try { update = JSON.parse(event.data); } catch (e) { return; }
      if (!update || typeof update.language !== 'string' || !Array.isArray(update.lines)) { return; }
      if (update.language.toLowerCase() !== language || update.sequence <= lastSequence) { return; }
      lastSequence = update.sequence;
      attempt = 0; // a connection that delivers is a good one: the next failure starts the backoff afresh
      render(update);
      if (body.getAttribute('data-state') !== 'live') { setState('live', 'Live: ' + nameOf(language)); }
      armPaused();
    };
    ws.onclose = function () {
      if (socket !== ws) { return; }
      socket = null;
      retryLater('reconnecting', 'Connection lost. Reconnecting…');
    };
  }

  function start() {
    fetchLanguages().then(function (list) {
      if (list.length === 0) {
        retryLater('offline', 'This stream is not sending captions right now. This page keeps trying.');
        return;
      }
      open(choose(list));
    }, function () {
      retryLater('reconnecting', 'The caption relay cannot be reached. Trying again…');
    });
  }

  picker.addEventListener('change', function () {
    if (!picker.value || picker.value === current) { return; }
    save('lang.' + stream, picker.value);
    attempt = 0;
    setState('connecting', 'Switching to ' + nameOf(picker.value) + '…');
    open(picker.value);
  });

  // New languages turned on while watching appear in the picker; one that is turned off is marked so.
  setInterval(function () {
    if (socket === null) { return; }
    fetchLanguages().then(function (list) {
      if (current && list.indexOf(current) < 0 && body.getAttribute('data-state') === 'live') {
        setState('paused', nameOf(current) + ' was turned off by the stream. Choose another language, or wait here.');
      }
    }, function () { /* the socket's own close reports a lost relay */ });
  }, LANGUAGES_EVERY_MS);

  start();
})();
