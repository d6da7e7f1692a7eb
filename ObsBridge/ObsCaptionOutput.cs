using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.ObsBridge;

/// <summary>Counters of <see cref="ObsCaptionOutput"/>.</summary>
/// <param name="Sent">Text updates OBS accepted.</param>
/// <param name="Coalesced">Partial updates replaced by a newer one before they were sent (rate limit).</param>
/// <param name="Dropped">Updates not delivered because OBS was down or failed (the current text is re-sent on reconnect).</param>
/// <param name="SourcesCreated">Caption text sources this output created.</param>
/// <param name="StreamCaptionsSent">Native caption frames OBS accepted.</param>
/// <param name="StreamCaptionsDropped">Native caption frames dropped (not streaming, OBS down, or backlog full).</param>
public sealed record ObsCaptionOutputStatistics(long Sent, long Coalesced, long Dropped, long SourcesCreated,
    long StreamCaptionsSent, long StreamCaptionsDropped);

/// <summary>
/// Shows captions in OBS: one text source per language (created with readable defaults when missing, never restyled
/// when it exists), updated at most <see cref="ObsCaptionOutputOptions.MaxUpdatesPerSecond"/> times a second with the
/// latest text while every final text is delivered; and, for one language, native CEA-608 stream captions while
/// OBS streams. Never blocks the caller: when OBS is down updates are dropped (counted) and the current caption of
/// each language is re-sent when OBS is back.
/// </summary>
public sealed partial class ObsCaptionOutput : IAsyncDisposable
{
    private const int MaxQueuedFinals = 16;

    private readonly ObsClient _client;
    private readonly ObsCaptionOutputOptions _options;
    private readonly ILogger<ObsCaptionOutput> _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _minInterval;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LanguageState> _languages = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _streamWake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Queue<string> _streamFrames = new();
    private readonly CancellationTokenSource _stopping = new();

    private Task? _updateLoop;
    private string? _lastFailure;
    private int _loopFailures;
    private int _sendFailures;
    private Task? _streamLoop;
    private volatile bool _resync;
    private volatile bool _streaming;
    private string? _textInputKind;
    private long _sent;
    private long _coalesced;
    private long _dropped;
    private long _created;
    private long _streamSent;
    private long _streamDropped;
    private int _disposed;

    /// <summary>Creates the output over a client (which this output starts if it is not yet started).</summary>
    public ObsCaptionOutput(ObsClient client, IOptions<ObsCaptionOutputOptions> options, ILogger<ObsCaptionOutput> logger,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _options = options.Value;
        _options.Validate();
        _logger = logger;
        _time = timeProvider;
        _minInterval = TimeSpan.FromSeconds(1.0 / _options.MaxUpdatesPerSecond);
    }

    /// <summary>True while OBS reports its stream output active.</summary>
    public bool IsStreaming => _streaming;

    /// <summary>Current counters.</summary>
    public ObsCaptionOutputStatistics Statistics => new(Interlocked.Read(ref _sent), Interlocked.Read(ref _coalesced),
        Interlocked.Read(ref _dropped), Interlocked.Read(ref _created), Interlocked.Read(ref _streamSent),
        Interlocked.Read(ref _streamDropped));

    /// <summary>The text source name for a language (from <see cref="ObsCaptionOutputOptions.SourceNameTemplate"/>).</summary>
    public string SourceName(string language) => _options.SourceNameTemplate.Replace("{lang}", language, StringComparison.Ordinal);

    /// <summary>Subscribes to the client, starts it, and starts the update loops (idempotent).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_updateLoop is not null)
            {
                return;
            }

            _client.Connected += OnConnected;
            _client.EventReceived += OnEvent;
            _updateLoop = Task.Run(() => UpdateLoopAsync(_stopping.Token));
            _streamLoop = Task.Run(() => StreamCaptionLoopAsync(_stopping.Token));
        }

        _client.Start();
        if (_client.IsConnected)
        {
            OnConnected(_client, EventArgs.Empty);
        }
    }

    /// <summary>
    /// Sets the caption text of a language's source. Partial texts are coalesced (latest wins); a final text is
    /// always delivered. Native stream captions take finished lines through <see cref="AddStreamCaption"/>.
    /// </summary>
    public void SetCaption(string language, string text, bool isFinal = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        ArgumentNullException.ThrowIfNull(text);
        lock (_gate)
        {
            if (!_languages.TryGetValue(language, out var state))
            {
                state = new LanguageState();
                _languages[language] = state;
            }

            state.Current = text;
            if (isFinal)
            {
                if (state.Partial is not null)
                {
                    _coalesced++;
                    state.Partial = null;
                }

                state.Finals.Enqueue(text);
                if (state.Finals.Count > MaxQueuedFinals)
                {
                    state.Finals.Dequeue();
                    _dropped++;
                }
            }
            else
            {
                if (state.Partial is not null)
                {
                    _coalesced++;
                }

                state.Partial = text;
            }
        }

        _wake.Writer.TryWrite(true);
    }

    /// <summary>
    /// A finished line of <paramref name="language"/>: when it is the native caption language and OBS is streaming,
    /// it goes into the stream as CEA-608 captions (made 608-safe and paced; see docs/obs-captions.md).
    /// </summary>
    public void AddStreamCaption(string language, string finishedLine)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        ArgumentNullException.ThrowIfNull(finishedLine);
        if (string.Equals(language, _options.NativeCaptionLanguage, StringComparison.Ordinal))
        {
            EnqueueStreamCaption(finishedLine);
        }
    }

    /// <summary>Clears the caption of a language (empty text, delivered like a final text).</summary>
    public void Clear(string language) => SetCaption(language, string.Empty, isFinal: true);

    /// <summary>Stops the loops and unsubscribes (the client is not disposed: its owner does that).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _client.Connected -= OnConnected;
        _client.EventReceived -= OnEvent;
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var loop in new[] { _updateLoop, _streamLoop })
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(false);
            }
        }

        _stopping.Dispose();
    }

    private void OnConnected(object? sender, EventArgs e)
    {
        lock (_gate)
        {
            _textInputKind = null;
            foreach (var state in _languages.Values)
            {
                state.SourceReady = false;
                state.ResendCurrent = true;
            }
        }

        _resync = true;
        _wake.Writer.TryWrite(true);
    }

    private void OnEvent(object? sender, ObsEvent e)
    {
        switch (e.EventType)
        {
            case "StreamStateChanged" when e.EventData is { } data && data.TryGetProperty("outputActive", out var active):
                var streaming = active.GetBoolean();
                if (streaming != _streaming)
                {
                    _streaming = streaming;
                    LogStreamState(streaming);
                }

                break;
            case "InputRemoved" or "InputNameChanged" when e.EventData is { } data:
                var name = data.TryGetProperty("inputName", out var n) ? n.GetString()
                    : data.TryGetProperty("oldInputName", out var o) ? o.GetString() : null;
                lock (_gate)
                {
                    foreach (var (language, state) in _languages)
                    {
                        if (SourceName(language) == name)
                        {
                            state.SourceReady = false;
                            state.ResendCurrent = true;
                        }
                    }
                }

                _wake.Writer.TryWrite(true);
                break;
        }
    }

    private async Task UpdateLoopAsync(CancellationToken stopping)
    {
        var wait = Timeout.InfiniteTimeSpan;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await WaitForWorkAsync(wait, stopping).ConfigureAwait(false);
                if (!_client.IsConnected)
                {
                    DropWhileDisconnected();
                    wait = Timeout.InfiniteTimeSpan; // the Connected event wakes us
                    continue;
                }

                if (_resync)
                {
                    _resync = false;
                    await ResyncStreamStateAsync(stopping).ConfigureAwait(false);
                }

                wait = await SendDueUpdatesAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or ObsRequestFailedException
                                           or InvalidOperationException or KeyNotFoundException)
            {
                // Loud once, quiet while it persists; retry with a growing pause (0.5 s up to 10 s).
                if (_loopFailures++ == 0)
                {
                    LogUpdateFailed(ex);
                }

                wait = TimeSpan.FromMilliseconds(Math.Min(500 * Math.Pow(2, Math.Min(_loopFailures - 1, 5)), 10_000));
                continue;
            }

            _loopFailures = 0;
        }
    }

    private async Task WaitForWorkAsync(TimeSpan wait, CancellationToken stopping)
    {
        if (wait == TimeSpan.Zero)
        {
            return;
        }

        using var timeout = wait == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(wait, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        try
        {
            await _wake.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
            _wake.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // The rate-limit wait elapsed.
        }
    }

    private void DropWhileDisconnected()
    {
        lock (_gate)
        {
            foreach (var state in _languages.Values)
            {
                var pending = state.Finals.Count + (state.Partial is null ? 0 : 1);
                if (pending > 0)
                {
                    _dropped += pending;
                    state.Finals.Clear();
                    state.Partial = null;
                    state.ResendCurrent = true;
                }
            }
        }
    }

    /// <summary>Sends what is due per language; returns how long until the next rate-limited update is due.</summary>
    private async Task<TimeSpan> SendDueUpdatesAsync(CancellationToken stopping)
    {
        var next = Timeout.InfiniteTimeSpan;
        List<(string Language, LanguageState State)> languages;
        lock (_gate)
        {
            languages = _languages.Select(kv => (kv.Key, kv.Value)).ToList();
        }

        foreach (var (language, state) in languages)
        {
            string? text;
            var now = _time.GetUtcNow();
            lock (_gate)
            {
                if (!state.HasWork)
                {
                    continue;
                }

                if (state.NextAllowed > now)
                {
                    var due = state.NextAllowed - now;
                    next = next == Timeout.InfiniteTimeSpan || due < next ? due : next;
                    continue;
                }

                text = state.TakeNext();
                state.NextAllowed = now + _minInterval;
            }

            if (!await SendTextAsync(language, state, text, stopping).ConfigureAwait(false))
            {
                // A refusing OBS is retried with a growing pause (0.5 s up to 10 s), not hammered.
                _sendFailures++;
                return TimeSpan.FromMilliseconds(Math.Min(500 * Math.Pow(2, Math.Min(_sendFailures - 1, 5)), 10_000));
            }

            _sendFailures = 0;

            lock (_gate)
            {
                if (state.HasWork)
                {
                    next = next == Timeout.InfiniteTimeSpan || _minInterval < next ? _minInterval : next;
                }
            }
        }

        return next;
    }

    private async Task<bool> SendTextAsync(string language, LanguageState state, string text, CancellationToken stopping)
    {
        var name = SourceName(language);
        try
        {
            if (!state.SourceReady)
            {
                await EnsureSourceAsync(name, text, state, stopping).ConfigureAwait(false);
                if (state.CreatedWithText)
                {
                    state.CreatedWithText = false;
                    Interlocked.Increment(ref _sent);
                    return true;
                }
            }

            var response = await _client.SendRequestAsync("SetInputSettings", new JsonObject
            {
                ["inputName"] = name,
                ["inputSettings"] = new JsonObject { ["text"] = text },
                ["overlay"] = true,
            }, stopping).ConfigureAwait(false);
            if (response.Code == ObsStatusCode.ResourceNotFound)
            {
                // Removed behind our back: create it again with the current text on the next pass.
                lock (_gate)
                {
                    state.SourceReady = false;
                    state.ResendCurrent = true;
                }

                return true;
            }

            response.EnsureSuccess();
            Interlocked.Increment(ref _sent);
            _lastFailure = null;
            return true;
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or ObsRequestFailedException
                                       or InvalidOperationException or KeyNotFoundException)
        {
            Interlocked.Increment(ref _dropped);
            lock (_gate)
            {
                state.ResendCurrent = true;
            }

            // OBS refusing (wrong scene name, missing text plugin ...) is worth a warning, once per distinct reason;
            // a dropped connection is already reported by the client.
            if (ex is not (ObsConnectionLostException or TimeoutException) && ex.Message != _lastFailure)
            {
                _lastFailure = ex.Message;
                LogSourceRefused(name, ex.Message);
            }
            else
            {
                LogSendFailed(name, ex.Message);
            }

            return false;
        }
    }

    private async Task EnsureSourceAsync(string name, string text, LanguageState state, CancellationToken ct)
    {
        var existing = await _client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = name }, ct)
            .ConfigureAwait(false);
        if (existing.IsSuccess)
        {
            // An existing source is the streamer's: only its text is ever set.
            state.SourceReady = true;
            return;
        }

        if (existing.Code != ObsStatusCode.ResourceNotFound)
        {
            existing.EnsureSuccess();
        }

        var kind = await TextInputKindAsync(ct).ConfigureAwait(false);
        var scene = _options.SceneName;
        if (scene is null)
        {
            var current = (await _client.SendRequestAsync("GetCurrentProgramScene", null, ct).ConfigureAwait(false)).EnsureSuccess();
            scene = current.Data.GetProperty("currentProgramSceneName").GetString()
                ?? throw new InvalidOperationException("OBS returned no current program scene name.");
        }

        var created = await _client.SendRequestAsync("CreateInput", new JsonObject
        {
            ["sceneName"] = scene,
            ["inputName"] = name,
            ["inputKind"] = kind,
            ["inputSettings"] = DefaultSettings(kind, text),
            ["sceneItemEnabled"] = true,
        }, ct).ConfigureAwait(false);
        if (created.Code == ObsStatusCode.ResourceAlreadyExists)
        {
            state.SourceReady = true; // someone created it meanwhile: leave its style alone
            return;
        }

        created.EnsureSuccess();
        state.SourceReady = true;
        state.CreatedWithText = true;
        Interlocked.Increment(ref _created);
        LogSourceCreated(name, kind, scene);
    }

    private async Task<string> TextInputKindAsync(CancellationToken ct)
    {
        if (_textInputKind is { } known)
        {
            return known;
        }

        var response = (await _client.SendRequestAsync("GetInputKindList", new JsonObject { ["unversioned"] = false }, ct)
            .ConfigureAwait(false)).EnsureSuccess();
        var kinds = response.Data.GetProperty("inputKinds").EnumerateArray().Select(k => k.GetString()).ToHashSet(StringComparer.Ordinal);
        var kind = new[] { "text_gdiplus_v3", "text_gdiplus_v2", "text_ft2_source_v2" }.FirstOrDefault(kinds.Contains)
            ?? kinds.FirstOrDefault(k => k is not null && (k.StartsWith("text_gdiplus", StringComparison.Ordinal)
                                                           || k.StartsWith("text_ft2_source", StringComparison.Ordinal)))
            ?? throw new InvalidOperationException(
                "This OBS offers no text input kind (neither text_gdiplus nor text_ft2_source): install OBS's text plugins.");
        _textInputKind = kind;
        return kind;
    }

    private JsonObject DefaultSettings(string kind, string text)
    {
        if (kind.StartsWith("text_gdiplus", StringComparison.Ordinal))
        {
            return new JsonObject
            {
                ["text"] = text,
                ["font"] = new JsonObject { ["face"] = "Arial", ["size"] = _options.FontSize, ["style"] = "Regular", ["flags"] = 0 },
                ["color"] = 0xFFFFFF,
                ["outline"] = true,
                ["outline_size"] = 4,
                ["outline_color"] = 0,
                ["extents"] = true,
                ["extents_cx"] = _options.TextWidth,
                ["extents_cy"] = _options.FontSize * 3,
                ["extents_wrap"] = true,
                ["align"] = "center",
                ["valign"] = "bottom",
            };
        }

        return new JsonObject
        {
            ["text"] = text,
            ["font"] = new JsonObject { ["face"] = "Sans Serif", ["size"] = _options.FontSize, ["style"] = "Regular", ["flags"] = 0 },
            ["color1"] = 0xFFFFFFFF,
            ["color2"] = 0xFFFFFFFF,
            ["outline"] = true,
            ["word_wrap"] = true,
            ["custom_width"] = _options.TextWidth,
        };
    }

    private async Task ResyncStreamStateAsync(CancellationToken ct)
    {
        var status = await _client.SendRequestAsync("GetStreamStatus", null, ct).ConfigureAwait(false);
        if (status.IsSuccess)
        {
            _streaming = status.Data.GetProperty("outputActive").GetBoolean();
            LogStreamState(_streaming);
        }
    }

    private void EnqueueStreamCaption(string text)
    {
        if (!_streaming)
        {
            return; // native captions only exist in a running stream
        }

        var frames = text.Length == 0 ? [string.Empty] : Cea608Text.ToFrames(text, _options.NativeCaptionRows);
        lock (_gate)
        {
            foreach (var frame in frames)
            {
                _streamFrames.Enqueue(frame);
                if (_streamFrames.Count > _options.NativeCaptionBacklog)
                {
                    _streamFrames.Dequeue();
                    _streamDropped++;
                }
            }
        }

        _streamWake.Writer.TryWrite(true);
    }

    /// <summary>
    /// Sends native caption frames one at a time. OBS releases one queued caption per video frame (display duration 0
    /// from obs-websocket), so it never holds more than we send; this loop keeps each frame up long enough to read
    /// (by length, between the minimum and maximum display time) and shortens that to the minimum while frames wait.
    /// </summary>
    private async Task StreamCaptionLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                string? frame;
                int waiting;
                lock (_gate)
                {
                    _streamFrames.TryDequeue(out frame);
                    waiting = _streamFrames.Count;
                }

                if (frame is null)
                {
                    await _streamWake.Reader.WaitToReadAsync(stopping).ConfigureAwait(false);
                    _streamWake.Reader.TryRead(out _);
                    continue;
                }

                if (!_streaming || !_client.IsConnected)
                {
                    Interlocked.Increment(ref _streamDropped);
                    continue;
                }

                var response = await _client.SendRequestAsync("SendStreamCaption", new JsonObject { ["captionText"] = frame }, stopping)
                    .ConfigureAwait(false);
                if (response.Code == ObsStatusCode.OutputNotRunning)
                {
                    _streaming = false;
                    Interlocked.Increment(ref _streamDropped);
                    continue;
                }

                response.EnsureSuccess();
                Interlocked.Increment(ref _streamSent);
                await Task.Delay(DisplayTime(frame, waiting), _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or ObsRequestFailedException)
            {
                Interlocked.Increment(ref _streamDropped);
                LogSendFailed("stream captions", ex.Message);
            }
        }
    }

    /// <summary>Reading time of a frame: ~17 characters a second, clamped to the configured display range; the
    /// minimum while more frames wait.</summary>
    internal TimeSpan DisplayTime(string frame, int waiting)
    {
        if (waiting > 0)
        {
            return _options.NativeCaptionMinDisplay;
        }

        var reading = TimeSpan.FromSeconds(frame.Length / 17.0);
        return reading < _options.NativeCaptionMinDisplay ? _options.NativeCaptionMinDisplay
            : reading > _options.NativeCaptionMaxDisplay ? _options.NativeCaptionMaxDisplay
            : reading;
    }

    private sealed class LanguageState
    {
        public string Current { get; set; } = string.Empty;

        public string? Partial { get; set; }

        public Queue<string> Finals { get; } = new();

        public bool ResendCurrent { get; set; }

        public bool SourceReady { get; set; }

        public bool CreatedWithText { get; set; }

        public DateTimeOffset NextAllowed { get; set; }

        public bool HasWork => Finals.Count > 0 || Partial is not null || ResendCurrent;

        /// <summary>Finals in order first, then the latest partial, then (after a reconnect) the current text.</summary>
        public string TakeNext()
        {
            ResendCurrent = false;
            if (Finals.TryDequeue(out var final))
            {
                return final;
            }

            if (Partial is { } partial)
            {
                Partial = null;
                return partial;
            }

            return Current;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created OBS text source {SourceName} ({InputKind}) in scene {SceneName}")]
    private partial void LogSourceCreated(string sourceName, string inputKind, string sceneName);

    [LoggerMessage(Level = LogLevel.Debug, Message = "OBS caption update for {Target} not delivered: {Reason}")]
    private partial void LogSendFailed(string target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS refused the caption update for {SourceName}: {Reason}. Retrying.")]
    private partial void LogSourceRefused(string sourceName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS caption update loop failed; retrying")]
    private partial void LogUpdateFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS streaming: {Streaming}")]
    private partial void LogStreamState(bool streaming);
}
