using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Audio;
using CaptionSidecar.Captions;
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Realtime;

/// <summary>
/// One Realtime transcription session on one connection: handshake (<c>session.created</c>, <c>session.update</c>,
/// <c>session.updated</c>), replay, audio streaming (this loop is the socket's only writer), the receive loop that
/// turns server events into caption calls, and the drain at the end of input.
/// </summary>
internal sealed partial class RealtimeTranscriptionSession
{
    private const int MinCommitSamples = 100 * (AudioChunk.SampleRate / 1000);

    private readonly RealtimeTranscriptionTrack _track;
    private readonly IRealtimeConnection _connection;
    private readonly ICaptionInput _captions;
    private readonly AudioReplayBuffer _replay;
    private readonly RealtimeOptions _options;
    private readonly ILogger _logger;
    private readonly string _language;
    private readonly RealtimeClientEvents _events;
    private readonly SentEventLog _sent = new();
    private readonly SessionTimeline _timeline = new();
    private readonly Lock _gate = new();

    // Turn state, shared by the receive loop and the sending loop (under _gate).
    private readonly Dictionary<string, long> _speechStartMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _speechEndMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pendingStartSample = new(StringComparer.Ordinal);
    private long _lastCommitEndMs;
    private long _lastCommitEndSample;

    private readonly TaskCompletionSource<string> _created = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _configured = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _bufferAck;
    private string? _configEventId;
    private string? _bufferAckEventId;
    private TaskCompletionSource _pendingDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _uncommittedSamples;

    public RealtimeTranscriptionSession(RealtimeTranscriptionTrack track, IRealtimeConnection connection, ICaptionInput captions, AudioReplayBuffer replay, int sessionNumber)
    {
        _track = track;
        _connection = connection;
        _captions = captions;
        _replay = replay;
        _options = track.Options;
        _logger = track.Logger;
        _language = track.Language.Code;
        _events = new RealtimeClientEvents(string.Create(CultureInfo.InvariantCulture, $"cs{sessionNumber}"));
        _pendingDone.TrySetResult();
    }

    /// <summary>Runs the session until the input ends (drained) or the connection is lost.</summary>
    public async Task<RealtimeSessionOutcome> RunAsync(ChannelReader<AudioChunk> audio, long resumeSample, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Until this session commits a turn, a replacement resumes where this one did.
            _lastCommitEndSample = resumeSample;
        }

        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receive = ReceiveLoopAsync(lost);
        string reason;
        try
        {
            var ended = await StreamAsync(audio, resumeSample, lost.Token);
            if (ended)
            {
                await DrainAsync(lost.Token);
                await CloseQuietlyAsync(cancellationToken);
                await lost.CancelAsync();
                await receive;
                return new RealtimeSessionOutcome(true, "input ended", ResumeSample());
            }

            reason = "stopped";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CloseQuietlyAsync(CancellationToken.None);
            await lost.CancelAsync();
            await receive;
            throw;
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            reason = "the connection closed";
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or TimeoutException or ObjectDisposedException)
        {
            reason = ex.Message;
            LogSendFailed(ex, _language);
        }
        catch (RealtimeConfigurationException)
        {
            await CloseQuietlyAsync(CancellationToken.None);
            await lost.CancelAsync();
            await receive;
            throw;
        }

        await lost.CancelAsync();
        reason = await receive ?? reason;
        FailPendingTurns(reason);
        return new RealtimeSessionOutcome(false, reason, ResumeSample());
    }

    /// <summary>Handshake, replay, then live audio. Returns true when the input ended, false when the connection was lost.</summary>
    private async Task<bool> StreamAsync(ChannelReader<AudioChunk> audio, long resumeSample, CancellationToken lost)
    {
        var handshake = TimeSpan.FromSeconds(_options.HandshakeTimeoutSeconds);
        var sessionId = await _created.Task.WaitAsync(handshake, _track.Time, lost);
        var (update, updateId) = _events.TranscriptionSessionUpdate(_options);
        lock (_gate)
        {
            _configEventId = updateId;
        }

        await SendAsync(update, updateId, "session.update", lost);
        await _configured.Task.WaitAsync(handshake, _track.Time, lost);
        _track.UpdateStatus(s => s with
        {
            State = TrackSessionState.Connected,
            SessionId = sessionId,
            ConnectedAt = _track.Time.GetUtcNow(),
            LastError = null,
        });
        LogConfigured(_language, sessionId, _options.TranscribeModel, _options.TurnDetection);

        // A pending turn's start already includes the server's prefix padding; a finished turn's end is where new speech can begin.
        var replayed = _replay.Since(resumeSample);
        if (replayed.Count > 0)
        {
            LogReplaying(_language, replayed.Count * replayed[0].Duration.TotalSeconds);
        }

        foreach (var chunk in replayed)
        {
            await AppendAsync(chunk, lost);
        }

        while (await audio.WaitToReadAsync(lost))
        {
            while (audio.TryRead(out var chunk))
            {
                _replay.Add(chunk);
                await AppendAsync(chunk, lost);
            }
        }

        return true;
    }

    private async Task AppendAsync(AudioChunk chunk, CancellationToken cancellationToken)
    {
        var (message, id) = _events.Append(chunk.Pcm16.Span);
        await SendAsync(message, id, "input_audio_buffer.append", cancellationToken);
        lock (_gate)
        {
            _timeline.Appended(chunk.StartSample, chunk.SampleCount);
        }

        _track.UpdateStatus(s => s with { ChunksSent = s.ChunksSent + 1 });
        if (_options.TurnDetection == TurnDetectionMode.Manual)
        {
            _uncommittedSamples += chunk.SampleCount;
            if (_uncommittedSamples >= _options.ManualCommitSeconds * AudioChunk.SampleRate)
            {
                await CommitAsync(cancellationToken);
            }
        }
    }

    private async Task CommitAsync(CancellationToken cancellationToken)
    {
        var (message, id) = _events.Commit();
        _uncommittedSamples = 0;
        await SendAsync(message, id, "input_audio_buffer.commit", cancellationToken);
    }

    /// <summary>
    /// The input ended: close the last turn (manual mode: commit what is left; VAD modes: append the silence that ends
    /// a turn, as a pause would), then send <c>input_audio_buffer.clear</c>. The server handles events in order, so
    /// its <c>cleared</c> answer means it has heard every byte and made every commit it will make; then wait for the
    /// pending transcriptions. The clear drops only trailing silence, so no silence is committed and billed.
    /// </summary>
    private async Task DrainAsync(CancellationToken lost)
    {
        _track.UpdateStatus(s => s with { State = TrackSessionState.Draining });
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(lost);
        drain.CancelAfter(TimeSpan.FromSeconds(_options.DrainTimeoutSeconds));
        try
        {
            if (_options.TurnDetection == TurnDetectionMode.Manual)
            {
                if (_uncommittedSamples >= MinCommitSamples)
                {
                    await CommitAsync(drain.Token);
                }
            }
            else
            {
                await AppendSilenceAsync(EndOfInputSilence(), drain.Token);
            }

            var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var (message, id) = _events.Clear();
            lock (_gate)
            {
                _bufferAck = ack;
                _bufferAckEventId = id;
            }

            await SendAsync(message, id, "input_audio_buffer.clear", drain.Token);
            await ack.Task.WaitAsync(drain.Token);
            Task pending;
            lock (_gate)
            {
                pending = _pendingDone.Task;
            }

            await pending.WaitAsync(drain.Token);
        }
        catch (OperationCanceledException) when (!lost.IsCancellationRequested)
        {
            LogDrainTimedOut(_language, _options.DrainTimeoutSeconds, PendingCount());
        }
    }

    private TimeSpan EndOfInputSilence() => _options.TurnDetection switch
    {
        TurnDetectionMode.ServerVad => TimeSpan.FromMilliseconds(_options.SilenceDurationMs + 500),
        _ => _options.Eagerness switch
        {
            "high" => TimeSpan.FromSeconds(2.5),
            "low" => TimeSpan.FromSeconds(8.5),
            _ => TimeSpan.FromSeconds(4.5),
        },
    };

    private async Task AppendSilenceAsync(TimeSpan length, CancellationToken cancellationToken)
    {
        var silence = new byte[AudioChunk.SampleRate / 10 * 2]; // 100 ms
        for (var sent = TimeSpan.Zero; sent < length; sent += TimeSpan.FromMilliseconds(100))
        {
            var (message, id) = _events.Append(silence);
            await SendAsync(message, id, "input_audio_buffer.append", cancellationToken);
            lock (_gate)
            {
                _timeline.AppendedSessionOnly(silence.Length / 2);
            }
        }
    }

    private async Task SendAsync(BinaryData message, string eventId, string type, CancellationToken cancellationToken)
    {
        _sent.Add(eventId, type);
        await _connection.SendAsync(message, cancellationToken);
    }

    private async Task CloseQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await _connection.CloseAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            LogCloseFailed(_language, ex.Message);
        }
    }

    /// <summary>Reads server events until the connection ends; returns why it ended (null when we ended it).</summary>
    private async Task<string?> ReceiveLoopAsync(CancellationTokenSource lost)
    {
        await Task.Yield();
        string? reason;
        try
        {
            await foreach (var message in _connection.ReceiveAsync(lost.Token))
            {
                Handle(message);
            }

            reason = "the server closed the connection";
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            reason = ex.Message;
        }

        await lost.CancelAsync();
        return reason;
    }

    private void Handle(BinaryData message)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message.ToMemory());
        }
        catch (JsonException ex)
        {
            LogMalformed(_language, message.ToMemory().Length, Snippet(message), ex.Message);
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Str(root, "type") is not { } type)
            {
                LogMalformed(_language, message.ToMemory().Length, Snippet(message), "no event type");
                return;
            }

            try
            {
                Dispatch(type, root);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
            {
                // A field of an unexpected JSON type: keep the session, log what came.
                LogMalformed(_language, message.ToMemory().Length, Snippet(message), ex.Message);
            }
        }
    }

    private void Dispatch(string type, JsonElement e)
    {
        switch (type)
        {
            case "session.created":
            case "transcription_session.created":
                OnSessionCreated(e);
                break;
            case "session.updated":
            case "transcription_session.updated":
                _configured.TrySetResult();
                break;
            case "input_audio_buffer.speech_started":
                OnSpeechStarted(e);
                break;
            case "input_audio_buffer.speech_stopped":
                OnSpeechStopped(e);
                break;
            case "input_audio_buffer.committed":
                OnCommitted(e);
                break;
            case "input_audio_buffer.cleared":
                AcknowledgeFinalClear();
                break;
            case "conversation.item.input_audio_transcription.delta":
                if (Str(e, "item_id") is { } deltaItem && Str(e, "delta") is { Length: > 0 } delta)
                {
                    _captions.TextDelta(deltaItem, delta);
                }

                break;
            case "conversation.item.input_audio_transcription.completed":
                OnCompleted(e);
                break;
            case "conversation.item.input_audio_transcription.failed":
                OnFailed(e);
                break;
            case "rate_limits.updated":
                OnRateLimits(e);
                break;
            case "error":
                OnError(e);
                break;
            default:
                // conversation.item.added/done, conversation.created, and anything newer: nothing to do.
                break;
        }
    }

    private void OnSessionCreated(JsonElement e)
    {
        if (!e.TryGetProperty("session", out var session))
        {
            return;
        }

        var id = Str(session, "id") ?? "unknown";
        DateTimeOffset? expires = session.TryGetProperty("expires_at", out var exp) && exp.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeSeconds(exp.GetInt64())
            : null;
        _track.UpdateStatus(s => s with { SessionId = id, ExpiresAt = expires });
        _created.TrySetResult(id);
    }

    private void OnSpeechStarted(JsonElement e) => _captions.SpeechStarted(RecordSpeechEdge(e, "audio_start_ms", _speechStartMs));

    private void OnSpeechStopped(JsonElement e) => _captions.SpeechStopped(RecordSpeechEdge(e, "audio_end_ms", _speechEndMs));

    /// <summary>Remembers where the server heard a turn start or stop (for its commit) and returns it on the pipeline timeline.</summary>
    private TimeSpan RecordSpeechEdge(JsonElement e, string field, Dictionary<string, long> edges)
    {
        var item = Str(e, "item_id");
        var ms = Num(e, field);
        lock (_gate)
        {
            if (item is not null)
            {
                edges[item] = ms;
            }

            return _timeline.ToPipeline(ms);
        }
    }

    private void OnCommitted(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        var previous = Str(e, "previous_item_id");
        TimeSpan start, end;
        lock (_gate)
        {
            var startMs = _speechStartMs.Remove(item, out var s) ? s : _lastCommitEndMs;
            var endMs = _speechEndMs.Remove(item, out var en) ? en : _timeline.SessionSamples * 1000 / AudioChunk.SampleRate;
            start = _timeline.ToPipeline(startMs);
            end = _timeline.ToPipeline(Math.Max(startMs, endMs));
            _lastCommitEndMs = endMs;
            _lastCommitEndSample = SampleOf(end);
            if (_pendingStartSample.Count == 0)
            {
                _pendingDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _pendingStartSample[item] = SampleOf(start);
        }

        _captions.TurnCommitted(item, previous, start, end);
    }

    private void OnCompleted(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        _captions.TextCompleted(item, Str(e, "transcript") ?? string.Empty);
        var used = TokenUsage.None;
        if (e.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            used = new TokenUsage { AudioInputTokens = Num(usage, "input_tokens"), TextOutputTokens = Num(usage, "output_tokens") };
        }

        _track.UpdateStatus(s => s with { TurnsCompleted = s.TurnsCompleted + 1, Usage = s.Usage.Add(used) });
        Finished(item);
    }

    private void OnFailed(JsonElement e)
    {
        if (Str(e, "item_id") is not { } item)
        {
            return;
        }

        var reason = e.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
            ? Str(error, "message") ?? Str(error, "code") ?? "unknown"
            : "unknown";
        LogTranscriptionFailed(_language, item, reason);
        _captions.TurnFailed(item, reason);
        Finished(item);
    }

    private void Finished(string item)
    {
        lock (_gate)
        {
            if (_pendingStartSample.Remove(item) && _pendingStartSample.Count == 0)
            {
                _pendingDone.TrySetResult();
            }
        }
    }

    private void OnRateLimits(JsonElement e)
    {
        if (!e.TryGetProperty("rate_limits", out var limits) || limits.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var list = new List<RateLimitStatus>();
        foreach (var limit in limits.EnumerateArray())
        {
            list.Add(new RateLimitStatus(
                Str(limit, "name") ?? "unknown",
                Num(limit, "limit"),
                Num(limit, "remaining"),
                limit.TryGetProperty("reset_seconds", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : 0));
        }

        _track.UpdateStatus(s => s with { RateLimits = list });
    }

    private void OnError(JsonElement e)
    {
        var error = e.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object ? err : e;
        var code = Str(error, "code") ?? Str(error, "type") ?? "unknown";
        var message = Str(error, "message") ?? string.Empty;
        var param = Str(error, "param");
        var clientEventId = Str(error, "event_id");
        var clientEventType = _sent.TypeOf(clientEventId);
        _track.UpdateStatus(s => s with { LastError = $"{code}: {message}" });
        if (code == "session_expired")
        {
            LogSessionExpired(_language, message);
            return;
        }

        LogServerError(_language, code, message, param ?? "-", clientEventType ?? "-", clientEventId ?? "-");
        string? configId, ackId;
        lock (_gate)
        {
            configId = _configEventId;
            ackId = _bufferAckEventId;
        }

        if (clientEventId is not null && clientEventId == configId)
        {
            _configured.TrySetException(new RealtimeConfigurationException(
                $"The Realtime server refused the session configuration: {code}: {message}" + (param is null ? string.Empty : $" (setting {param})")));
        }
        else if (clientEventId is not null && clientEventId == ackId)
        {
            AcknowledgeFinalClear();
        }
    }

    /// <summary>The final clear was answered: by <c>input_audio_buffer.cleared</c>, or by an error naming it.</summary>
    private void AcknowledgeFinalClear()
    {
        TaskCompletionSource? ack;
        lock (_gate)
        {
            ack = _bufferAck;
            _bufferAck = null;
        }

        ack?.TrySetResult();
    }

    private void FailPendingTurns(string reason)
    {
        List<string> pending;
        lock (_gate)
        {
            pending = [.. _pendingStartSample.Keys];
        }

        // The replacement session hears this audio again (see ResumeSample): these items will not get text here.
        foreach (var item in pending)
        {
            _captions.TurnFailed(item, reason);
        }
    }

    private long ResumeSample()
    {
        lock (_gate)
        {
            return _pendingStartSample.Count > 0 ? _pendingStartSample.Values.Min() : _lastCommitEndSample;
        }
    }

    private int PendingCount()
    {
        lock (_gate)
        {
            return _pendingStartSample.Count;
        }
    }

    private static long SampleOf(TimeSpan t) => t.Ticks * AudioChunk.SampleRate / TimeSpan.TicksPerSecond;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    private static string Snippet(BinaryData message)
    {
        var bytes = message.ToMemory().Span;
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 120)]);
        return text.ReplaceLineEndings(" ");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: Realtime session {SessionId} ready (model {Model}, turn detection {TurnDetection})")]
    private partial void LogConfigured(string language, string sessionId, string model, TurnDetectionMode turnDetection);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: replaying {Seconds:0.0} s of audio that was not captioned yet")]
    private partial void LogReplaying(string language, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: ignored a malformed message from the Realtime server ({Length} bytes, '{Snippet}'): {Problem}")]
    private partial void LogMalformed(string language, int length, string snippet, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: the Realtime server reported {Code}: {Message} (param {Param}) about our {ClientEventType} {ClientEventId}")]
    private partial void LogServerError(string language, string code, string message, string param, string clientEventType, string clientEventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {Language}: the Realtime session reached its maximum duration ({Message}); a new session takes over")]
    private partial void LogSessionExpired(string language, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: transcription of {ItemId} failed: {Reason}")]
    private partial void LogTranscriptionFailed(string language, string itemId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: sending to the Realtime server failed")]
    private partial void LogSendFailed(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Track {Language}: {Pending} turns were still pending {Seconds} s after the input ended; giving up on them")]
    private partial void LogDrainTimedOut(string language, int seconds, int pending);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Track {Language}: closing the Realtime connection failed: {Reason}")]
    private partial void LogCloseFailed(string language, string reason);
}

/// <summary>The server refused the session configuration (for example an unknown model): retrying cannot help.</summary>
public sealed class RealtimeConfigurationException : Exception
{
    public RealtimeConfigurationException()
    {
    }

    public RealtimeConfigurationException(string message)
        : base(message)
    {
    }

    public RealtimeConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
