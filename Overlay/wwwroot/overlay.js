// Caption overlay for an OBS Browser Source. Plain JS, no framework, no build step.
// Query parameters: lang=en,es lines=2 chars=42 font=Arial size=36 color=ffffff outline=2 shadow=1
// bg=000000 opacity=0.5 align=left|center|right position=top|bottom fade=0 (seconds after silence; 0 = never)
// stream=NAME (on a viewer relay: read that stream's /ws/watch instead of /ws/captions)
// speakers=0 (hide the speakers' names; by default a speaker's name leads each block of their lines, in their colour)
(function () {
  'use strict';

  var params = new URLSearchParams(window.location.search);
  var root = document.documentElement;
  var container = document.getElementById('captions');

  function param(name) {
    var value = params.get(name);
    return value === null ? '' : value.trim();
  }

  function number(name, fallback) {
    var value = parseFloat(param(name));
    return isFinite(value) ? value : fallback;
  }

  // "ffcc00" and "#ffcc00" both work, since a bare # has to be written %23 in a URL.
  function colour(value) {
    return /^[0-9a-f]{3}([0-9a-f]{3})?([0-9a-f]{2})?$/i.test(value) ? '#' + value : value;
  }

  function withOpacity(value, opacity) {
    var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value);
    if (hex) {
      var h = hex[1].length === 3 ? hex[1].replace(/(.)/g, '$1$1') : hex[1];
      return 'rgba(' + parseInt(h.slice(0, 2), 16) + ', ' + parseInt(h.slice(2, 4), 16) + ', ' +
        parseInt(h.slice(4, 6), 16) + ', ' + opacity + ')';
    }
    return 'color-mix(in srgb, ' + value + ' ' + Math.round(opacity * 100) + '%, transparent)';
  }

  var languages = param('lang').split(',').map(function (s) { return s.trim().toLowerCase(); })
    .filter(function (s) { return s.length > 0; });
  var maxLines = Math.max(1, Math.floor(number('lines', 2)));
  var fadeSeconds = Math.max(0, number('fade', 0));
  var showSpeakers = param('speakers') !== '0';

  (function applyStyle() {
    var style = root.style;
    if (param('font')) { style.setProperty('--cs-font', param('font')); }
    if (param('size')) { style.setProperty('--cs-size', number('size', 36) + 'px'); }
    if (param('color')) { style.setProperty('--cs-color', colour(param('color'))); }
    if (param('chars')) { style.setProperty('--cs-width', Math.max(1, number('chars', 42)) + 'ch'); }
    if (param('outline')) { style.setProperty('--cs-outline', Math.max(0, number('outline', 0)) + 'px'); }
    if (param('outlinecolor')) { style.setProperty('--cs-outline-color', colour(param('outlinecolor'))); }
    if (param('shadow') && param('shadow') !== '0') {
      style.setProperty('--cs-shadow', '0 0 4px #000000, 2px 2px 3px #000000');
    }
    if (param('bg')) {
      style.setProperty('--cs-bg', withOpacity(colour(param('bg')), Math.min(1, Math.max(0, number('opacity', 0.5)))));
    }
    var align = param('align');
    if (align === 'left' || align === 'center' || align === 'right') {
      style.setProperty('--cs-align', align);
      style.setProperty('--cs-items', align === 'left' ? 'flex-start' : align === 'right' ? 'flex-end' : 'center');
    }
    if (param('position') === 'top') {
      container.classList.remove('pos-bottom');
      container.classList.add('pos-top');
    }
  })();

  // One block per language, in ?lang= order (or in order of arrival when no filter is given).
  var blocks = {};
  var lastSequence = {};

  function blockFor(language) {
    var key = language.toLowerCase();
    if (blocks[key]) { return blocks[key]; }
    var block = document.createElement('div');
    block.className = 'lang';
    block.setAttribute('data-lang', key);
    blocks[key] = block;
    var order = languages.indexOf(key);
    var next = null;
    if (order >= 0) {
      for (var i = order + 1; i < languages.length && !next; i++) { next = blocks[languages[i]] || null; }
    }
    container.insertBefore(block, next);
    return block;
  }

  function setText(span, text) {
    // Reuse the text node so the browser only repaints what changed.
    if (!span.firstChild) { span.appendChild(document.createTextNode('')); }
    if (span.firstChild.nodeValue !== text) { span.firstChild.nodeValue = text; }
  }

  function labelOf(line) {
    return typeof line.label === 'string' && line.label.length > 0 ? line.label : null;
  }

  // The speaker's name leads the first visible line of each block (consecutive lines with one label). The name is
  // text, never markup; the colour is used only in the #rrggbb form the server sends.
  function setSpeaker(line, label, colour) {
    var span = line.querySelector(':scope > .speaker');
    if (label === null) {
      if (span) { line.removeChild(span); }
      line.removeAttribute('data-speaker');
      return;
    }
    if (!span) {
      span = document.createElement('span');
      span.className = 'speaker';
      line.insertBefore(span, line.firstChild);
    }
    setText(span, label);
    span.style.color = typeof colour === 'string' && /^#[0-9a-fA-F]{6}$/.test(colour) ? colour : '';
    line.setAttribute('data-speaker', label);
  }

  function render(update) {
    var block = blockFor(update.language);
    var lines = update.cleared ? [] : update.lines.slice(-maxLines);
    for (var i = 0; i < lines.length; i++) {
      var line = block.children[i];
      if (!line) {
        line = document.createElement('div');
        line.className = 'line';
        var finalSpan = document.createElement('span');
        finalSpan.className = 'final';
        var tentativeSpan = document.createElement('span');
        tentativeSpan.className = 'tentative';
        line.appendChild(finalSpan);
        line.appendChild(tentativeSpan);
        block.appendChild(line);
      }
      var label = labelOf(lines[i]);
      var startsBlock = label !== null && (i === 0 || labelOf(lines[i - 1]) !== label);
      setSpeaker(line, showSpeakers && startsBlock ? label : null, lines[i].colour);
      setText(line.querySelector(':scope > .final'), lines[i].final);
      setText(line.querySelector(':scope > .tentative'), lines[i].tentative);
    }
    while (block.children.length > lines.length) { block.removeChild(block.lastChild); }
    block.setAttribute('data-sequence', String(update.sequence));
  }

  var fadeTimer = null;
  function showThenFade() {
    container.classList.remove('faded');
    if (fadeTimer !== null) { clearTimeout(fadeTimer); fadeTimer = null; }
    if (fadeSeconds > 0) {
      fadeTimer = setTimeout(function () { container.classList.add('faded'); }, fadeSeconds * 1000);
    }
  }

  function onMessage(event) {
    var update;
    try { update = JSON.parse(event.data); } catch (e) { return; }
    if (!update || typeof update.language !== 'string' || !Array.isArray(update.lines)) { return; }
    var key = update.language.toLowerCase();
    if (languages.length > 0 && languages.indexOf(key) < 0) { return; }
    if (key in lastSequence && update.sequence <= lastSequence[key]) { return; }
    lastSequence[key] = update.sequence;
    render(update);
    showThenFade();
  }

  var delay = 250;
  function connect() {
    var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    var query = languages.length > 0 ? '?lang=' + encodeURIComponent(languages.join(',')) : '';
    // On a viewer relay (?stream=NAME) the feed is that stream's: /ws/watch?stream=NAME&lang=...
    var path = '/ws/captions';
    if (param('stream')) {
      path = '/ws/watch';
      query = '?stream=' + encodeURIComponent(param('stream')) + (languages.length > 0 ? '&lang=' + encodeURIComponent(languages.join(',')) : '');
    }
    var socket = new WebSocket(scheme + window.location.host + path + query);
    socket.onopen = function () {
      delay = 250;
      // A restarted server numbers its updates afresh; its current state arrives first.
      lastSequence = {};
      document.body.setAttribute('data-connected', 'true');
    };
    socket.onmessage = onMessage;
    socket.onclose = function () {
      document.body.setAttribute('data-connected', 'false');
      var wait = delay + Math.random() * delay / 2;
      delay = Math.min(delay * 2, 5000);
      setTimeout(connect, wait);
    };
  }

  connect();
})();
