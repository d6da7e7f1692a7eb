using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// One accepted WebSocket: a single receive loop handles client events in order, and a single writer task drains
/// the bounded outbound queue (session events, asynchronous transcriptions, timers and injected faults all go
/// through it, so frames never interleave).
/// </summary>
internal sealed partial class RealtimeConnection
{
    private const int OutboundCapacity = 10_000;
    private const int MaxAudioBytes = 15 * 1024 * 1024;
    private const int MaxMessageBytes = (MaxAudioBytes / 3 * 4) + (64 * 1024);
    private const int MinCommitSamples = InputAudioBuffer.SampleRate / 10;
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private static readonly string[] SupportedEventTypes =
    [
        "session.update", "transcription_session.update", "input_audio_buffer.append", "input_audio_buffer.commit",
        "input_audio_buffer.clear", "conversation.item.create", "conversation.item.retrieve", "conversation.item.truncate",
        "conversation.item.delete", "response.create", "response.cancel", "output_audio_buffer.clear",
    ];

    private readonly WebSocket _socket;
    private readonly HttpContext _http;
    private readonly FakeRealtimeOptions _options;
    private readonly LanguageStalls _stalls;
    private readonly ILogger _logger;
    private readonly SessionConfiguration _config;
    private readonly InputAudioBuffer _audio;
    private readonly WireCheck _wire;
    private readonly Channel<OutboundFrame> _outbound = Channel.CreateBounded<OutboundFrame>(
        new BoundedChannelOptions(OutboundCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _lifetime;
    private readonly ITimer? _expiryTimer;
    private readonly HostileText _hostile;
    private string? _pendingItemId;
    private long _speechStartSample;
    private long _droppedFrames;
    private volatile bool _ended;
    private int _expired;
    private volatile bool _closeSent;
    private volatile bool _withholdTranscriptions;

    public RealtimeConnection(FakeSession session, WebSocket socket, HttpContext http, FakeRealtimeOptions options, LanguageStalls stalls, ILogger logger, CancellationToken shutdown)
    {
        _stalls = stalls;
        Session = session;
        _socket = socket;
        _http = http;
        _options = options;
        _logger = logger;
        _lifetime = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        var expiresAt = options.SessionLifetime is { } lifetime ? (options.TimeProvider.GetUtcNow() + lifetime).ToUnixTimeSeconds() : 0;
        _config = new SessionConfiguration(session.SessionType, session.Id, session.Model, expiresAt);
        _audio = new InputAudioBuffer(options.VadThresholdDbfs);
        _wire = new WireCheck(session, options.CheckSchemas, logger);
        _audio.Configure(_config.TurnDetection);
        _hostile = new HostileText(options.HostileText, Send, options.TimeProvider, logger, session.Id);

        // session.created is queued before anyone else can reach the connection, so it is always the first event.
        var created = _config.Snapshot();
        session.RecordConfig(created);
        _ = Send(ServerEvents.SessionCreated(created));

        if (options.SessionLifetime is { } sessionLifetime)
        {
            _expiryTimer = options.TimeProvider.CreateTimer(_ => _ = ExpireAsync(), null, sessionLifetime, Timeout.InfiniteTimeSpan);
        }
    }

    public FakeSession Session { get; }

    /// <summary>Frames dropped because the client did not read fast enough (the connection is then aborted).</summary>
    public long DroppedFrames => Interlocked.Read(ref _droppedFrames);

    /// <summary>Runs the session until the client closes, the connection drops, or the server shuts down.</summary>
    public async Task RunAsync()
    {
        var writer = WriteLoopAsync();

        var reason = "closed";
        try
        {
            await ReceiveLoopAsync(_lifetime.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            reason = _lifetime.IsCancellationRequested ? "server stopped or close timed out" : "connection lost";
            Log.ConnectionLost(_logger, ex, Session.Id);
        }
        finally
        {
            _ended = true;
            _outbound.Writer.TryComplete();
            await writer;
            if (_socket.State != WebSocketState.Closed)
            {
                _http.Abort();
            }

            if (_expiryTimer is not null)
            {
                await _expiryTimer.DisposeAsync();
            }

            await _lifetime.CancelAsync();
            await _hostile.StoppedAsync();
            _lifetime.Dispose();
            Session.RecordClosed();
            Log.SessionEnded(_logger, Session.Id, reason);
        }
    }

    /// <summary>Queues a text frame that is not JSON (fault injection).</summary>
    public Task SendMalformedJsonAsync()
    {
        Log.Fault(_logger, Session.Id, "malformed JSON");
        return Enqueue(OutboundFrame.OfText("{\"type\":\"response.output_text.delta\",\"delta\":\"unterminated"));
    }

    /// <summary>Queues an <c>error</c> event not caused by any client event (fault injection).</summary>
    public Task SendErrorAsync(string code, string message, string type)
    {
        Log.Fault(_logger, Session.Id, "error " + code);
        return SendError(new ProtocolError(code, message, null, type), null);
    }

    /// <summary>Commits turns from now on without ever transcribing them (fault injection).</summary>
    public void WithholdTranscriptions()
    {
        Log.Fault(_logger, Session.Id, "withhold transcriptions");
        _withholdTranscriptions = true;
    }

    /// <summary>Queues a <c>rate_limits.updated</c> event.</summary>
    public Task SendRateLimitsAsync() => Send(ServerEvents.RateLimitsUpdated());

    /// <summary>Aborts the TCP connection at once, without a close frame.</summary>
    public Task DropAsync()
    {
        Log.Fault(_logger, Session.Id, "drop connection");
        _http.Abort();
        return Task.CompletedTask;
    }

    /// <summary>Ends the session like the real service at its maximum duration: <c>session_expired</c>, then close 1001.</summary>
    public Task ExpireAsync()
    {
        if (Interlocked.Exchange(ref _expired, 1) == 1)
        {
            return Task.CompletedTask;
        }

        Log.Expiring(_logger, Session.Id);
        var minutes = (_options.SessionLifetime ?? TimeSpan.FromMinutes(60)).TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture);
        var error = SendError(new ProtocolError("session_expired", $"Your session hit the maximum duration of {minutes} minutes."), null);
        var close = Enqueue(OutboundFrame.OfClose(WebSocketCloseStatus.EndpointUnavailable, "session expired"));
        return Task.WhenAll(error, close);
    }

    private Task Send(JsonObject evt)
    {
        _wire.Sending(evt);
        return Enqueue(OutboundFrame.OfText(evt.ToJsonString()));
    }

    private Task SendError(ProtocolError error, string? clientEventId)
    {
        Session.RecordError(error.Code);
        Log.ErrorSent(_logger, Session.Id, error.Code, error.Message);
        return Send(ServerEvents.Error(error, clientEventId));
    }

    private Task Enqueue(OutboundFrame frame)
    {
        if (_ended)
        {
            return Task.CompletedTask;
        }

        if (!_outbound.Writer.TryWrite(frame))
        {
            if (!_ended)
            {
                // A real service drops a client that does not read; waiting would stall the receive loop instead.
                Interlocked.Increment(ref _droppedFrames);
                Log.OutboundFull(_logger, Session.Id, OutboundCapacity);
                _http.Abort();
            }

            return Task.CompletedTask;
        }

        return frame.Written.Task;
    }

    private async Task WriteLoopAsync()
    {
        await foreach (var frame in _outbound.Reader.ReadAllAsync())
        {
            try
            {
                if (_closeSent || _socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
                {
                    continue;
                }

                if (frame.Text is { } text)
                {
                    await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, _lifetime.Token);
                }
                else
                {
                    await _socket.CloseOutputAsync(frame.CloseStatus, frame.CloseDescription, _lifetime.Token);
                    _closeSent = true;

                    // The client should answer the close; if it does not, the receive loop is cancelled.
                    _lifetime.CancelAfter(CloseHandshakeTimeout);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                Log.ConnectionLost(_logger, ex, Session.Id);
                _http.Abort();
            }
            finally
            {
                frame.Written.TrySetResult();
            }
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken ct)
    {
        var chunk = new byte[64 * 1024];
        var message = new ArrayBufferWriter<byte>();
        while (true)
        {
            // A stalled language's session reads nothing: commits and responses stop, and the client's sends back up.
            await _stalls.WhenRunningAsync(Session.TargetLanguage, ct);
            message.ResetWrittenCount();
            var tooLarge = false;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(chunk.AsMemory(), ct);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Log.ClientClosed(_logger, Session.Id, _socket.CloseStatus);
                    if (!_closeSent)
                    {
                        await Enqueue(OutboundFrame.OfClose(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null));
                    }

                    return;
                }

                tooLarge |= message.WrittenCount + result.Count > MaxMessageBytes;
                if (!tooLarge)
                {
                    message.Write(chunk.AsSpan(0, result.Count));
                }
            }
            while (!result.EndOfMessage);

            // A read already waiting when the language was stalled still completes: the event it got is held until
            // the language resumes too, so "from now on the server reads nothing" holds for the very next event.
            await _stalls.WhenRunningAsync(Session.TargetLanguage, ct);
            if (tooLarge)
            {
                Session.RecordClientEvent("(too large)");
                _ = SendError(new ProtocolError("invalid_event", $"The message is larger than {MaxMessageBytes} bytes; send audio in smaller appends (at most 15 MiB each)."), null);
            }
            else if (result.MessageType == WebSocketMessageType.Binary)
            {
                Session.RecordClientEvent("(binary)");
                _ = SendError(new ProtocolError("invalid_event", "Binary WebSocket messages are not supported: send each event as a JSON text message (audio as base64 inside input_audio_buffer.append)."), null);
            }
            else
            {
                HandleEvent(message.WrittenSpan);
            }
        }
    }

    private void HandleEvent(ReadOnlySpan<byte> utf8)
    {
        JsonObject? evt;
        try
        {
            evt = JsonNode.Parse(utf8) as JsonObject;
        }
        catch (JsonException)
        {
            evt = null;
        }

        if (evt is null)
        {
            Session.RecordClientEvent("(invalid)");
            _ = SendError(new ProtocolError("invalid_event", "The message is not a JSON object: send one JSON event object per WebSocket text message."), null);
            return;
        }

        var eventId = evt["event_id"] is JsonValue id && id.TryGetValue<string>(out var text) ? text : null;
        if (evt["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type))
        {
            Session.RecordClientEvent("(missing type)");
            _ = SendError(new ProtocolError("invalid_event", "The 'type' field is missing."), eventId);
            return;
        }

        Session.RecordClientEvent(type);
        _wire.Received(evt);
        Log.ClientEvent(_logger, Session.Id, type);
        switch (type)
        {
            case "session.update":
                UpdateSession(_config.Apply(evt["session"]), eventId, beta: false);
                break;
            case "transcription_session.update":
                UpdateSession(_config.ApplyBeta(evt["session"]), eventId, beta: true);
                break;
            case "input_audio_buffer.append":
                Append(evt["audio"], eventId);
                break;
            case "input_audio_buffer.commit":
                Commit(eventId);
                break;
            case "input_audio_buffer.clear":
                _audio.StartNewBuffer();
                _pendingItemId = null;
                _ = Send(ServerEvents.Cleared());
                break;
            case "conversation.item.create" when _config.Type == FakeSessionType.Realtime:
                CreateItem(evt["item"], evt, eventId);
                break;
            case "conversation.item.delete" when _config.Type == FakeSessionType.Realtime:
                DeleteItem(evt["item_id"], eventId);
                break;
            case "response.create" when _config.Type == FakeSessionType.Realtime:
                CreateResponse(evt["response"], eventId);
                break;
            case "response.cancel" when _config.Type == FakeSessionType.Realtime:
                CancelResponse(evt["response_id"], eventId);
                break;
            case "conversation.item.create" or "conversation.item.retrieve" or "conversation.item.truncate"
                or "conversation.item.delete" or "response.create" or "response.cancel" or "output_audio_buffer.clear":
                HandleConversationEvent(type, eventId);
                break;
            default:
                _ = SendError(new ProtocolError("invalid_value", $"Invalid value: '{type}'. Supported values are: {string.Join(", ", SupportedEventTypes.Select(t => $"'{t}'"))}.", "type"), eventId);
                break;
        }
    }

    private void UpdateSession(ProtocolError? error, string? eventId, bool beta)
    {
        if (error is not null)
        {
            _ = SendError(error, eventId);
            return;
        }

        _audio.Configure(_config.TurnDetection);
        if (_config.Type == FakeSessionType.Realtime)
        {
            Session.RecordTargetLanguage(TargetLanguage(_config.Instructions));
        }

        var effective = _config.Snapshot();
        Session.RecordConfig(effective);
        _ = Send(beta ? ServerEvents.TranscriptionSessionUpdated(_config.BetaSnapshot()) : ServerEvents.SessionUpdated(effective));
    }

    private void HandleConversationEvent(string type, string? eventId)
    {
        // Responses belong to conversation sessions only; a transcription session never emits response.* events.
        // Item retrieval and truncation are not part of the fake: it says so plainly instead of pretending.
        var error = _config.Type == FakeSessionType.Transcription
            ? new ProtocolError("invalid_value", $"Invalid value: '{type}'. This event is not supported in transcription sessions.", "type")
            : new ProtocolError("unsupported_by_fake", $"The fake Realtime server does not implement '{type}' yet.", "type", "server_error");
        _ = SendError(error, eventId);
    }

    private void Append(JsonNode? audio, string? eventId)
    {
        if (audio is not JsonValue value || !value.TryGetValue<string>(out var base64))
        {
            _ = SendError(new ProtocolError("missing_required_parameter", "Missing required parameter: 'audio' (base64-encoded PCM16 audio).", "audio"), eventId);
            return;
        }

        if (base64.Length > MaxAudioBytes / 3 * 4 + 4)
        {
            _ = SendError(new ProtocolError("invalid_value", "Invalid 'audio': too large. One append may carry at most 15 MiB of audio; send smaller chunks.", "audio"), eventId);
            return;
        }

        byte[] pcm;
        try
        {
            pcm = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            _ = SendError(new ProtocolError("invalid_value", "Invalid 'audio': not valid base64. Send PCM16 LE mono 24 kHz audio encoded as standard base64.", "audio"), eventId);
            return;
        }

        if (pcm.Length % 2 != 0 || pcm.Length > MaxAudioBytes)
        {
            var problem = pcm.Length % 2 != 0 ? $"{pcm.Length} bytes is not a whole number of 16-bit PCM samples" : "more than 15 MiB of audio in one append";
            _ = SendError(new ProtocolError("invalid_value", $"Invalid 'audio': {problem}.", "audio"), eventId);
            return;
        }

        Session.RecordAppended(pcm.Length);
        foreach (var vad in _audio.Append(pcm))
        {
            switch (vad)
            {
                case VadEvent.SpeechStarted started:
                    _pendingItemId = RealtimeIds.Item();
                    _ = Send(ServerEvents.SpeechStarted(Ms(started.ReportedStartSample), _pendingItemId));
                    _speechStartSample = started.ReportedStartSample;
                    break;
                case VadEvent.SpeechStopped stopped:
                    var itemId = _pendingItemId ?? RealtimeIds.Item();
                    _pendingItemId = null;
                    _ = Send(ServerEvents.SpeechStopped(Ms(stopped.EndSample), itemId));
                    Session.RecordSpeechSpan(TimeSpan.FromMilliseconds(Ms(_speechStartSample)), TimeSpan.FromMilliseconds(Ms(stopped.EndSample)));
                    // The committed item holds the padded speech and the silence that ended it (the service's
                    // audio_end_ms would include that silence; the fake reports the end of the voice, which captions use).
                    CommitTurn(itemId, Ms(stopped.CommitSample) - Ms(_speechStartSample), detectedByVad: true);
                    break;
                default:
                    break;
            }
        }
    }

    private void Commit(string? eventId)
    {
        var buffered = _audio.BufferedSamples;
        if (buffered < MinCommitSamples)
        {
            var ms = InputAudioBuffer.SamplesToMs(buffered).ToString("0.00", CultureInfo.InvariantCulture);
            _ = SendError(new ProtocolError("input_audio_buffer_commit_empty", $"Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {ms}ms of audio."), eventId);
            return;
        }

        var itemId = _audio.InSpeech && _pendingItemId is not null ? _pendingItemId : RealtimeIds.Item();
        _pendingItemId = null;
        _audio.StartNewBuffer();
        CommitTurn(itemId, Ms(buffered), detectedByVad: false);
    }

    private void CommitTurn(string itemId, long audioMs, bool detectedByVad)
    {
        Session.RecordCommittedAudio(TimeSpan.FromMilliseconds(audioMs));
        var previous = AppendConversationItem(itemId, new ItemContent("user", null, audioMs));
        _ = Send(ServerEvents.Committed(previous, itemId));
        _ = Send(ServerEvents.ItemAdded(previous, itemId));
        _ = Send(ServerEvents.ItemDone(previous, itemId));
        Log.TurnCommitted(_logger, Session.Id, itemId, audioMs);

        // Like the real service, only a VAD-detected turn starts a response by itself; a client commit never does.
        if (detectedByVad && _config.Type == FakeSessionType.Realtime && _config.CreateResponse)
        {
            CreateResponse(null, null, forTurn: true);
        }

        if (_config.TranscriptionEnabled && !_withholdTranscriptions)
        {
            var (speaker, script) = SpeakerScriptChoice.For(_options, _config.TranscriptionPrompt, _config.TranscriptionLanguage, out var unknownSpeaker);
            if (unknownSpeaker is not null)
            {
                Log.UnknownSpeaker(_logger, Session.Id, unknownSpeaker);
            }

            Session.RecordSpeaker(speaker);
            var (turn, text) = script.TakeNext();
            var fail = _options.TurnFailureEvery is { } every && turn % every == 0;
            var billing = new TranscriptionBilling(audioMs, _config.TranscriptionPrompt, _config.TranscriptionModel);
            _ = TranscribeAsync(itemId, text, billing, fail, _lifetime.Token);
        }
    }

    /// <summary>Streams the turn's script line word by word; runs beside the receive loop so later turns may interleave.</summary>
    private async Task TranscribeAsync(string itemId, string text, TranscriptionBilling billing, bool fail, CancellationToken ct)
    {
        try
        {
            if (fail)
            {
                await Task.Delay(_options.WordDelay, _options.TimeProvider, ct);
                await Send(ServerEvents.TranscriptionFailed(itemId));
                return;
            }

            await BeforeTranscriptionAsync(itemId);

            var (deltas, completed) = _hostile.Transcription(text, [.. WordWithLeadingSpace().Matches(text).Select(m => m.Value)]);
            foreach (var delta in deltas)
            {
                await Task.Delay(_options.WordDelay, _options.TimeProvider, ct);
                await Send(ServerEvents.TranscriptionDelta(itemId, delta));
            }

            await Task.Delay(_options.WordDelay, _options.TimeProvider, ct);
            if (!ct.IsCancellationRequested && !_ended)
            {
                Session.RecordCompleted(text);
                var usage = ServerEvents.TranscriptionUsage(billing, completed);
                Session.RecordUsage(usage);
                await Send(ServerEvents.TranscriptionCompleted(itemId, completed, usage));
                await _hostile.TurnCompletedAsync(billing.AudioMs, ct);
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended before the transcription finished; the real service drops it too.
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            Log.TranscriptionCrashed(_logger, ex, Session.Id, itemId);
        }
    }

    private static long Ms(long samples) => (long)Math.Round(InputAudioBuffer.SamplesToMs(samples));

    [GeneratedRegex(@"\s*\S+")]
    private static partial Regex WordWithLeadingSpace();

    private sealed class OutboundFrame
    {
        public string? Text { get; private init; }

        public WebSocketCloseStatus CloseStatus { get; private init; }

        public string? CloseDescription { get; private init; }

        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static OutboundFrame OfText(string text) => new() { Text = text };

        public static OutboundFrame OfClose(WebSocketCloseStatus status, string? description) =>
            new() { CloseStatus = status, CloseDescription = description };
    }
}
