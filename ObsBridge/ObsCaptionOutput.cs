using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

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
/// each language is re-sent when OBS is back. A host that splits captions further (one source per speaker) sets other
/// text sources by name through <see cref="SetSourceText"/>; they are handled exactly like the language sources.
/// </summary>
/// <remarks>
/// Three parts: <c>CaptionCoalescer</c> decides what each source shows next (a plain type, under this class's lock,
/// which only guards it between the callers and the update loop); the update loop, the only sender of text updates,
/// finds or creates sources through <c>CaptionSourceProvisioner</c>; <c>StreamCaptions</c> is the CEA-608 loop. Failed
/// passes of the update loop and stream caption frames are retried through <see cref="ObsCaptionOutputOptions.Retry"/>.
/// </remarks>
public sealed partial class ObsCaptionOutput : IAsyncDisposable
{
    private const int MaxQueuedFinals = 16;

    private readonly ObsClient _client;
    private readonly ObsCaptionOutputOptions _options;
    private readonly ILogger<ObsCaptionOutput> _logger;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _retry;
    private readonly Lock _gate = new();
    private readonly CaptionCoalescer _captions;
    private readonly CaptionSourceProvisioner _sources;
    private readonly StreamCaptions _stream;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ITimer _due;
    private readonly CancellationTokenSource _stopping = new();

    private Task? _updateLoop;
    private string? _lastRefusal;
    private long _connectedGeneration;
    private long _sent;
    private int _disposed;

    /// <summary>Creates the output over a client (which this output starts if it is not yet started).</summary>
    public ObsCaptionOutput(ObsClient client, IOptions<ObsCaptionOutputOptions> options, ILogger<ObsCaptionOutput> logger,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _client = client;
        _options = options.Value;
        _options.Validate();
        _logger = logger;
        _time = timeProvider;
        _retry = _options.Retry ?? ObsRetry.Default(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), timeProvider);
        _captions = new CaptionCoalescer(MaxQueuedFinals, TimeSpan.FromSeconds(1.0 / _options.MaxUpdatesPerSecond));
        _sources = new CaptionSourceProvisioner(client, _options, logger);
        _stream = new StreamCaptions(client, _options, _retry, timeProvider, logger);
        _due = timeProvider.CreateTimer(static s => ((ObsCaptionOutput)s!)._wake.Writer.TryWrite(true), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>True while OBS reports its stream output active.</summary>
    public bool IsStreaming => _stream.IsStreaming;

    /// <summary>Current counters.</summary>
    public ObsCaptionOutputStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return new(Interlocked.Read(ref _sent), _captions.Coalesced, _captions.Dropped, _sources.Created,
                    _stream.Sent, _stream.Dropped);
            }
        }
    }

    /// <summary>The text source name for a language (from <see cref="ObsCaptionOutputOptions.SourceNameTemplate"/>).</summary>
    public string SourceName(string language) => _options.SourceNameTemplate.Replace("{lang}", language, StringComparison.Ordinal);

    /// <summary>Subscribes to the client, starts it, and starts the update loops (idempotent).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_updateLoop is not null || _disposed != 0)
            {
                return;
            }

            _client.Connected += OnConnected;
            _client.EventReceived += OnEvent;
            _updateLoop = Task.Run(() => UpdateLoopAsync(_stopping.Token), CancellationToken.None);
            _stream.Start(_stopping.Token);
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
        SetSourceText(SourceName(language), text, isFinal);
    }

    /// <summary>
    /// Sets the text of any caption text source by its OBS name, for captions split further than by language (for
    /// example one source per speaker and language, named by the host): found or created like a language's source,
    /// coalesced and rate-limited the same way, shown again after a reconnect.
    /// </summary>
    public void SetSourceText(string sourceName, string text, bool isFinal = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceName);
        ArgumentNullException.ThrowIfNull(text);
        lock (_gate)
        {
            _captions.Set(sourceName, text, isFinal);
        }

        _wake.Writer.TryWrite(true);
    }

    /// <summary>
    /// A finished line of <paramref name="language"/>: when it is the native caption language and OBS is streaming,
    /// it goes into the stream as CEA-608 captions (made 608-safe and paced; see docs/obs-captions.md). With a
    /// <paramref name="speaker"/>, a caption that starts another speaker's lines is led by <c>&gt;&gt; NAME: </c>, the
    /// broadcast convention for a change of speaker; without one (a single unnamed speaker) nothing is added.
    /// </summary>
    public void AddStreamCaption(string language, string finishedLine, string? speaker = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        ArgumentNullException.ThrowIfNull(finishedLine);
        if (string.Equals(language, _options.NativeCaptionLanguage, StringComparison.Ordinal))
        {
            _stream.AddLine(finishedLine, string.IsNullOrWhiteSpace(speaker) ? null : speaker);
        }
    }

    /// <summary>Clears the caption of a language (empty text, delivered like a final text).</summary>
    public void Clear(string language) => SetCaption(language, string.Empty, isFinal: true);

    /// <summary>Stops the loops and unsubscribes (the client is not disposed: its owner does that).</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed != 0)
            {
                return;
            }

            _disposed = 1;
        }

        _client.Connected -= OnConnected;
        _client.EventReceived -= OnEvent;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _wake.Writer.TryComplete();
        if (_updateLoop is not null)
        {
            await _updateLoop.ConfigureAwait(false);
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        await _due.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void OnConnected(object? sender, EventArgs e)
    {
        lock (_gate)
        {
            _captions.Reconnected();
        }

        Interlocked.Increment(ref _connectedGeneration);
        _stream.Connected();
        _wake.Writer.TryWrite(true);
    }

    private void OnEvent(object? sender, ObsEvent e)
    {
        switch (e.EventType)
        {
            case "StreamStateChanged" when e.EventData is { } data && data.TryGetProperty("outputActive", out var active)
                                                                    && active.ValueKind is JsonValueKind.True or JsonValueKind.False:
                _stream.StreamStateChanged(active.GetBoolean());
                break;
            case "InputRemoved" or "InputNameChanged" when e.EventData is { ValueKind: JsonValueKind.Object } data:
                var name = data.TryGetProperty("inputName", out var n) ? n.GetString() : null;
                var oldName = data.TryGetProperty("oldInputName", out var o) ? o.GetString() : null;
                lock (_gate)
                {
                    // Removed, renamed away (the old name), or another input renamed to it (the new name).
                    foreach (var source in _captions.Sources.Where(s => s == name || s == oldName).ToList())
                    {
                        _captions.SourceGone(source);
                    }
                }

                _wake.Writer.TryWrite(true);
                break;
        }
    }

    /// <summary>The only sender of text updates: waits for work (a caption, a reconnect, the rate-limit timer), then
    /// runs passes through the retry policy until one succeeds.</summary>
    private async Task UpdateLoopAsync(CancellationToken stopping)
    {
        var seenGeneration = 0L;
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                _wake.Reader.TryRead(out _);
                var generation = Interlocked.Read(ref _connectedGeneration);
                if (generation != seenGeneration)
                {
                    seenGeneration = generation;
                    _sources.Reset();
                }

                await _retry.ExecuteAsync(PassAsync, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or ObsRequestFailedException
                                       or InvalidOperationException or KeyNotFoundException)
        {
            // Only a retry policy with a limit gets here: captions to OBS stop, the rest of the host goes on.
            LogGaveUp(ex.Message);
        }
    }

    /// <summary>Sends every update that is due; throws when OBS refused one (the pipeline retries the pass, and the
    /// failed language then re-sends its current text).</summary>
    private async ValueTask PassAsync(CancellationToken stopping)
    {
        if (!_client.IsConnected)
        {
            lock (_gate)
            {
                _captions.DropPending(); // the Connected event wakes this loop again
            }

            return;
        }

        while (true)
        {
            CaptionWork? next;
            TimeSpan? due;
            lock (_gate)
            {
                next = _captions.TakeDue(_time.GetUtcNow(), out due);
            }

            if (next is not { } work)
            {
                if (due is { } wait)
                {
                    _due.Change(wait, Timeout.InfiniteTimeSpan);
                }

                return;
            }

            await SendAsync(work, stopping).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(CaptionWork work, CancellationToken stopping)
    {
        var name = work.Source;
        try
        {
            if (work.NeedsSource && await _sources.EnsureAsync(name, work.Text, stopping).ConfigureAwait(false))
            {
                Delivered(work);
                return;
            }

            var response = await _client.SendRequestAsync("SetInputSettings", new JsonObject
            {
                ["inputName"] = name,
                ["inputSettings"] = new JsonObject { ["text"] = work.Text },
                ["overlay"] = true,
            }, stopping).ConfigureAwait(false);
            if (response.Code == ObsStatusCode.ResourceNotFound)
            {
                // Removed behind our back: create it again with the current text on the next pass.
                lock (_gate)
                {
                    _captions.SourceGone(work.Source);
                }

                return;
            }

            response.EnsureSuccess();
            Delivered(work);
            _lastRefusal = null;
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or ObsRequestFailedException
                                       or InvalidOperationException or KeyNotFoundException)
        {
            lock (_gate)
            {
                _captions.Failed(work);
            }

            // OBS refusing (wrong scene name, missing text plugin ...) is worth a warning, once per distinct reason;
            // a dropped connection is already reported by the client.
            if (ex is not (ObsConnectionLostException or TimeoutException) && ex.Message != _lastRefusal)
            {
                _lastRefusal = ex.Message;
                LogSourceRefused(name, ex.Message);
            }
            else
            {
                LogSendFailed(name, ex.Message);
            }

            throw;
        }
    }

    private void Delivered(CaptionWork work)
    {
        Interlocked.Increment(ref _sent);
        lock (_gate)
        {
            _captions.Delivered(work);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "OBS caption update for {Target} not delivered: {Reason}")]
    private partial void LogSendFailed(string target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS refused the caption update for {SourceName}: {Reason}. Retrying.")]
    private partial void LogSourceRefused(string sourceName, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS caption updates stopped: the retry policy gave up ({Reason})")]
    private partial void LogGaveUp(string reason);
}
