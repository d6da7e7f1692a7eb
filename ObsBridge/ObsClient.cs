using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// obs-websocket v5 client: keeps one connection to OBS (reconnecting forever with jittered backoff), sends requests
/// with ids and timeouts, and delivers events in order on one dispatch loop.
/// </summary>
/// <remarks>
/// One task writes to the socket (an outbound channel drained by the send loop, which runs on the requesting thread
/// when it is idle), and one dedicated thread per connection reads it, blocking in poll/recv, so a response completes
/// its request on that thread with no thread-pool hop (docs/benchmarks.md). Events go through a bounded
/// channel to the dispatch loop, so a slow subscriber never blocks the receive loop (overflow is dropped and counted).
/// When a connection drops, every pending request fails at once with <see cref="ObsConnectionLostException"/>.
/// </remarks>
public sealed partial class ObsClient : IAsyncDisposable
{
    private const int OutboundCapacity = 1024;
    private const int MaxMessageBytes = 64 * 1024 * 1024;
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(10);

    private readonly ObsClientOptions _options;
    private readonly ILogger<ObsClient> _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<DispatchItem> _dispatch;
    private readonly Lock _gate = new();

    private Task? _run;
    private Task? _dispatchLoop;
    private volatile Session? _session;
    private volatile Thread? _receiveThread;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextRequestId;
    private int _disposed;
    private long _droppedEvents;
    private long _connections;
    private ObsConnectionState _state = ObsConnectionState.Stopped;
    private string? _lastError;
    private string? _obsVersion;
    private string? _obsWebSocketVersion;
    private DateTimeOffset? _connectedSince;

    /// <summary>Creates the client; call <see cref="Start"/> to connect.</summary>
    public ObsClient(IOptions<ObsClientOptions> options, ILogger<ObsClient> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _options.Validate();
        _logger = logger;
        _time = timeProvider;
        _dispatch = Channel.CreateBounded<DispatchItem>(new BoundedChannelOptions(_options.EventQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // events use TryWrite (drop + count); the Connected marker waits
            SingleReader = true,
        });
    }

    /// <summary>Raised on the dispatch loop for each event, in the order OBS sent them.</summary>
    public event EventHandler<ObsEvent>? EventReceived;

    /// <summary>Raised on the dispatch loop after each successful Identify (first connect and every reconnect), before
    /// any event of that session, so outputs can resync.</summary>
    public event EventHandler? Connected;

    /// <summary>A snapshot of the connection state, versions and last error.</summary>
    public ObsClientStatus Status
    {
        get
        {
            lock (_gate)
            {
                return new ObsClientStatus(_state, _lastError, _obsVersion, _obsWebSocketVersion, _connectedSince,
                    _connections, Interlocked.Read(ref _droppedEvents));
            }
        }
    }

    /// <summary>True while a session is identified.</summary>
    public bool IsConnected => _session is { IsClosed: false, Identified: true };

    /// <summary>The current (or last) session's receive thread; tests check that it ends with its session.</summary>
    internal Thread? ReceiveThread => _receiveThread;

    /// <summary>Starts connecting in the background (idempotent).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_run is not null)
            {
                return;
            }

            _state = ObsConnectionState.Connecting;
            _dispatchLoop = Task.Run(DispatchLoopAsync);
            _run = Task.Run(() => ConnectionLoopAsync(_stopping.Token));
        }
    }

    /// <summary>Completes when a session is identified (at once if one is).</summary>
    public Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default)
    {
        Task task;
        lock (_gate)
        {
            task = _connected.Task;
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>Sends a request and waits for its response (any status code; see <see cref="ObsResponse.EnsureSuccess"/>).</summary>
    /// <remarks>The code after <c>await</c> may run on the client's receive thread (no thread hop, like a JavaScript
    /// client's event loop): keep it non-blocking, or the next responses and events wait; it may send further
    /// requests.</remarks>
    /// <exception cref="ObsConnectionLostException">OBS is not connected, or the connection dropped before the response.</exception>
    /// <exception cref="TimeoutException">No response within <see cref="ObsClientOptions.RequestTimeout"/>.</exception>
    public async Task<ObsResponse> SendRequestAsync(string requestType, JsonObject? requestData = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestType);
        var id = NextRequestId();
        var d = await SendAndWaitAsync(id, ObsProtocol.Request(id, requestType, requestData), requestType, cancellationToken)
            .ConfigureAwait(false);
        return ObsProtocol.ParseResponse(d);
    }

    /// <summary>Sends a request batch (op 8) executed serially by OBS and returns the results in request order.</summary>
    /// <exception cref="ObsConnectionLostException">OBS is not connected, or the connection dropped before the response.</exception>
    /// <exception cref="TimeoutException">No response within <see cref="ObsClientOptions.RequestTimeout"/>.</exception>
    public async Task<IReadOnlyList<ObsResponse>> SendBatchAsync(IReadOnlyList<ObsRequest> requests, bool haltOnFailure = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var id = NextRequestId();
        var d = await SendAndWaitAsync(id, ObsProtocol.RequestBatch(id, requests, haltOnFailure, executionType: 0), "RequestBatch",
            cancellationToken).ConfigureAwait(false);
        var results = new List<ObsResponse>();
        foreach (var r in d.GetProperty("results").EnumerateArray())
        {
            results.Add(ObsProtocol.ParseResponse(r));
        }

        return results;
    }

    /// <summary>Stops the connection loop, closes the socket and stops event dispatch.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Task? run;
        lock (_gate)
        {
            run = _run;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (run is not null)
        {
            await run.ConfigureAwait(false);
        }

        _dispatch.Writer.TryComplete();
        if (_dispatchLoop is not null)
        {
            await _dispatchLoop.ConfigureAwait(false);
        }

        lock (_gate)
        {
            _state = ObsConnectionState.Stopped;
            _connectedSince = null;
        }

        _stopping.Dispose();
    }

    private string NextRequestId() => "r" + Interlocked.Increment(ref _nextRequestId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<JsonElement> SendAndWaitAsync(string id, byte[] payload, string requestType, CancellationToken cancellationToken)
    {
        var session = _session;
        if (session is null || session.IsClosed || !session.Identified)
        {
            throw new ObsConnectionLostException($"OBS is not connected ({Status.State}); {requestType} was not sent.");
        }

        // Completed inline by the receive loop: the caller resumes without a thread-pool hop (the round trip is what a
        // caption update costs). Callers must not block after awaiting a request (see the remarks on SendRequestAsync).
        var response = new TaskCompletionSource<JsonElement>();
        session.Pending[id] = response;
        if (session.IsClosed)
        {
            // The session ended between the check and the registration; its fail-all pass may have missed us.
            response.TrySetException(new ObsConnectionLostException());
        }

        // The timeout and the caller's token complete the same TaskCompletionSource as the response does: no
        // linked token source and no WaitAsync wrapper per request.
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var onTimeout = timeout.Token.UnsafeRegister(static state => ((TaskCompletionSource<JsonElement>)state!)
            .TrySetException(new TimeoutException()), response);
        using var onCancel = cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<JsonElement>)state!)
            .TrySetCanceled(token), response);
        try
        {
            if (!session.Outbound.Writer.TryWrite(payload))
            {
                await session.Outbound.Writer.WriteAsync(payload, timeout.Token).ConfigureAwait(false);
            }

            return await response.Task.ConfigureAwait(false);
        }
        catch (Exception ex) when ((ex is TimeoutException || (ex is OperationCanceledException && timeout.IsCancellationRequested))
                                   && !cancellationToken.IsCancellationRequested)
        {
            LogRequestTimedOut(requestType, id, _options.RequestTimeout.TotalMilliseconds);
            throw new TimeoutException($"OBS did not answer {requestType} within {_options.RequestTimeout.TotalSeconds:0.###} s.");
        }
        catch (ChannelClosedException ex)
        {
            throw new ObsConnectionLostException($"The connection to OBS was lost; {requestType} was not sent.", ex);
        }
        finally
        {
            session.Pending.TryRemove(id, out _);
        }
    }

    private async Task ConnectionLoopAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            SetState(ObsConnectionState.Connecting);
            var outcome = await RunSessionAsync(stopping).ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                break;
            }

            TimeSpan delay;
            switch (outcome.CloseCode)
            {
                case ObsCloseCode.AuthenticationFailed:
                    var authError = string.IsNullOrEmpty(_options.Password)
                        ? "OBS requires a password (close 4009 Authentication failed): set the OBS WebSocket password."
                        : "OBS rejected the password (close 4009 Authentication failed): check the OBS WebSocket password.";
                    LogRejected(_options.Url, ObsCloseCode.AuthenticationFailed, authError, _options.RejectedRetryDelay.TotalSeconds);
                    SetState(ObsConnectionState.AuthenticationFailed, authError);
                    delay = _options.RejectedRetryDelay;
                    failures = 0;
                    break;
                case ObsCloseCode.UnsupportedRpcVersion:
                    const string rpcError = "OBS does not support obs-websocket rpc version 1 (close 4010): OBS 28 or newer is required.";
                    LogRejected(_options.Url, ObsCloseCode.UnsupportedRpcVersion, rpcError, _options.RejectedRetryDelay.TotalSeconds);
                    SetState(ObsConnectionState.UnsupportedRpcVersion, rpcError);
                    delay = _options.RejectedRetryDelay;
                    failures = 0;
                    break;
                case ObsCloseCode.SessionInvalidated:
                    const string kicked = "The session was removed in OBS (close 4011); not reconnecting until restarted.";
                    SetState(ObsConnectionState.SessionInvalidated, kicked);
                    LogSessionInvalidated(_options.Url);
                    return;
                default:
                    if (outcome.WasIdentified)
                    {
                        failures = 0;
                    }

                    failures++;
                    delay = Backoff(failures);
                    SetState(ObsConnectionState.Disconnected, outcome.Error);
                    break;
            }

            try
            {
                await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var baseMs = Math.Min(_options.ReconnectInitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16)),
            _options.ReconnectMaxDelay.TotalMilliseconds);
        var jittered = baseMs * (0.75 + (0.5 * Random.Shared.NextDouble()));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, _options.ReconnectMaxDelay.TotalMilliseconds));
    }

    private async Task<SessionOutcome> RunSessionAsync(CancellationToken stopping)
    {
        WebSocket? socket = null;
        var buffer = new ReceiveBuffer();
        try
        {
            ObsSocketStream stream;
            using (var handshake = new CancellationTokenSource(_options.ConnectTimeout, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(handshake.Token, stopping))
            {
                try
                {
                    (socket, stream) = await WebSocketUpgrade.ConnectAsync(_options.Url, ObsProtocol.SubProtocol, KeepAliveInterval, linked.Token)
                        .ConfigureAwait(false);
                    var identified = await HandshakeAsync(socket, buffer, linked.Token).ConfigureAwait(false);
                    if (identified is not null)
                    {
                        return identified.Value;
                    }
                }
                catch (OperationCanceledException) when (handshake.IsCancellationRequested && !stopping.IsCancellationRequested)
                {
                    return Unreachable(new TimeoutException($"No Hello/Identified from OBS within {_options.ConnectTimeout.TotalSeconds:0.#} s."));
                }
            }

            return await RunIdentifiedSessionAsync(socket, stream, buffer, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return new SessionOutcome(false, null, "stopped");
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or JsonException or InvalidOperationException
                                       or KeyNotFoundException or SocketException or AuthenticationException)
        {
            return Unreachable(ex);
        }
        finally
        {
            socket?.Dispose();
        }

        SessionOutcome Unreachable(Exception ex)
        {
            // Log the first failure in a row loudly, the rest of an outage quietly.
            if (Status.LastError is null)
            {
                LogUnreachable(_options.Url, ex);
            }
            else
            {
                LogStillUnreachable(_options.Url, ex.Message);
            }

            return new SessionOutcome(false, null, $"OBS not reachable at {_options.Url}: {ex.Message}");
        }
    }

    /// <summary>Hello → Identify → Identified. Returns an outcome when OBS closed the socket instead, null when identified.</summary>
    private async Task<SessionOutcome?> HandshakeAsync(WebSocket socket, ReceiveBuffer buffer, CancellationToken ct)
    {
        var hello = await ReceiveAsync(socket, buffer, ct).ConfigureAwait(false);
        if (hello is null)
        {
            return Closed(socket, identified: false);
        }

        var (op, d) = ObsProtocol.Parse(hello);
        if (op != ObsOpCode.Hello)
        {
            throw new InvalidOperationException($"OBS sent op {(int)op} before Hello.");
        }

        lock (_gate)
        {
            _obsVersion = d.TryGetProperty("obsStudioVersion", out var v) ? v.GetString() : null;
            _obsWebSocketVersion = d.TryGetProperty("obsWebSocketVersion", out var wv) ? wv.GetString() : null;
        }

        string? auth = null;
        if (d.TryGetProperty("authentication", out var challenge))
        {
            auth = ObsAuthentication.Compute(_options.Password ?? string.Empty,
                challenge.GetProperty("salt").GetString() ?? string.Empty,
                challenge.GetProperty("challenge").GetString() ?? string.Empty);
        }

        await socket.SendAsync(ObsProtocol.Identify(auth, _options.EventSubscriptions), WebSocketMessageType.Text, true, ct)
            .ConfigureAwait(false);
        var reply = await ReceiveAsync(socket, buffer, ct).ConfigureAwait(false);
        if (reply is null)
        {
            return Closed(socket, identified: false);
        }

        var (replyOp, _) = ObsProtocol.Parse(reply);
        return replyOp == ObsOpCode.Identified
            ? null
            : throw new InvalidOperationException($"OBS answered Identify with op {(int)replyOp} instead of Identified.");
    }

    private async Task<SessionOutcome> RunIdentifiedSessionAsync(WebSocket socket, ObsSocketStream stream, ReceiveBuffer buffer,
        CancellationToken stopping)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var session = new Session(Channel.CreateBounded<byte[]>(new BoundedChannelOptions(OutboundCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // senders wait (bounded by their request timeout)
            SingleReader = true,
            // The send loop resumes on the writing thread instead of hopping through the thread pool; it stays the
            // only task that writes to the socket.
            AllowSynchronousContinuations = true,
        }));
        var sendLoop = Task.Run(() => SendLoopAsync(socket, session, lifetime));
        session.Identified = true;
        _session = session;
        var started = _time.GetUtcNow();
        lock (_gate)
        {
            _state = ObsConnectionState.Connected;
            _lastError = null;
            _connectedSince = started;
            _connections++;
            _connected.TrySetResult();
        }

        LogConnected(_options.Url, _obsVersion, _obsWebSocketVersion);
        if (_obsVersion is null)
        {
            // obs-websocket before 5.3 has no obsStudioVersion in Hello; GetVersion has it.
            _ = Task.Run(() => ReadObsVersionAsync(stopping), CancellationToken.None);
        }

        string? error = null;
        SessionOutcome? outcome = null;
        try
        {
            // Before the receive thread starts, so Connected precedes every event of this session.
            await _dispatch.Writer.WriteAsync(new DispatchItem(null), stopping).ConfigureAwait(false);

            // The receive loop gets a thread of its own that blocks in poll/recv: a response is parsed and its caller
            // resumed on that thread, without the thread-pool hop every asynchronous socket read costs (docs/benchmarks.md).
            var ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var receiver = new Thread(() => ReceiveLoop(socket, buffer, session, ended, lifetime.Token))
            {
                IsBackground = true,
                Name = "ObsClient receive",
            };
            _receiveThread = receiver;
            receiver.UnsafeStart();

            if (await ended.Task.ConfigureAwait(false))
            {
                outcome = Closed(socket, identified: true);
                await CloseQuietlyAsync(socket).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            error = "stopped";
            await CloseQuietlyAsync(socket).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            error = "send failed";
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or JsonException)
        {
            error = ex.Message;
            LogConnectionLost(_options.Url, ex);
        }
        finally
        {
            EndSession(session, lifetime);
            await sendLoop.ConfigureAwait(false);
        }

        return outcome ?? new SessionOutcome(true, null, $"Connection to OBS lost: {error}");
    }

    private async Task ReadObsVersionAsync(CancellationToken ct)
    {
        try
        {
            var version = await SendRequestAsync("GetVersion", null, ct).ConfigureAwait(false);
            if (version.IsSuccess && version.Data.TryGetProperty("obsVersion", out var v))
            {
                lock (_gate)
                {
                    _obsVersion = v.GetString();
                }

                LogObsVersion(_obsVersion);
            }
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or OperationCanceledException)
        {
            LogStillUnreachable(_options.Url, ex.Message);
        }
    }

    private void EndSession(Session session, CancellationTokenSource lifetime)
    {
        session.IsClosed = true;
        session.Outbound.Writer.TryComplete();
        lifetime.Cancel();
        lock (_gate)
        {
            _session = null;
            _connectedSince = null;
            if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        var lost = new ObsConnectionLostException();
        var failed = 0;
        foreach (var id in session.Pending.Keys)
        {
            if (session.Pending.TryRemove(id, out var pending) && pending.TrySetException(lost))
            {
                failed++;
            }
        }

        if (failed > 0)
        {
            LogPendingFailed(failed);
        }
    }

    /// <summary>The receive thread: completes <paramref name="ended"/> with true when OBS closed the connection, with the
    /// exception that ended the loop otherwise.</summary>
    private void ReceiveLoop(WebSocket socket, ReceiveBuffer buffer, Session session, TaskCompletionSource<bool> ended,
        CancellationToken ct)
    {
        try
        {
            while (ReceiveOnThisThread(socket, buffer, ct, out var message))
            {
                HandleMessage(session, message);
            }

            ended.TrySetResult(true);
        }
        catch (Exception ex)
        {
            // Any failure ends the session; the session task classifies it (stopped, lost, bad message).
            ended.TrySetException(ex);
        }
    }

    /// <summary>Blocking receive of one message; false when OBS sent a close frame. A message that fits one chunk is
    /// parsed in place, without a copy.</summary>
    private static bool ReceiveOnThisThread(WebSocket socket, ReceiveBuffer buffer, CancellationToken ct, out ReadOnlySpan<byte> message)
    {
        buffer.Message.SetLength(0);
        while (true)
        {
            var pending = socket.ReceiveAsync(buffer.Chunk.AsMemory(), ct);

            // The stream's reads block this thread, so this completes synchronously unless the socket answered a ping
            // while its send buffer was full; then waiting here is what this dedicated thread is for.
            var result = pending.IsCompleted ? pending.GetAwaiter().GetResult() : pending.AsTask().GetAwaiter().GetResult();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                message = default;
                return false;
            }

            if (result.EndOfMessage && buffer.Message.Length == 0)
            {
                message = buffer.Chunk.AsSpan(0, result.Count);
                return true;
            }

            buffer.Message.Write(buffer.Chunk, 0, result.Count);
            if (buffer.Message.Length > MaxMessageBytes)
            {
                throw new InvalidOperationException($"OBS sent a message larger than {MaxMessageBytes} bytes.");
            }

            if (result.EndOfMessage)
            {
                message = buffer.Message.GetBuffer().AsSpan(0, (int)buffer.Message.Length);
                return true;
            }
        }
    }

    private SessionOutcome Closed(WebSocket socket, bool identified)
    {
        var code = socket.CloseStatus is { } s ? (int)s : (int?)null;
        var reason = socket.CloseStatusDescription;
        LogClosedByObs(_options.Url, code, reason);
        return new SessionOutcome(identified, code, $"OBS closed the connection ({code} {reason})");
    }

    private void HandleMessage(Session session, ReadOnlySpan<byte> message)
    {
        var (op, d) = ObsProtocol.Parse(message);
        switch (op)
        {
            case ObsOpCode.RequestResponse:
            case ObsOpCode.RequestBatchResponse:
                var id = d.TryGetProperty("requestId", out var rid) ? rid.GetString() : null;
                if (id is not null && session.Pending.TryRemove(id, out var pending))
                {
                    pending.TrySetResult(d);
                }
                else
                {
                    LogUnmatchedResponse(id);
                }

                break;
            case ObsOpCode.Event:
                var evt = ObsProtocol.ParseEvent(d);
                if (!_dispatch.Writer.TryWrite(new DispatchItem(evt)))
                {
                    var dropped = Interlocked.Increment(ref _droppedEvents);
                    if ((dropped & (dropped - 1)) == 0)
                    {
                        LogEventsDropped(dropped, evt.EventType);
                    }
                }

                break;
            default:
                LogUnexpectedOp((int)op);
                break;
        }
    }

    private async Task SendLoopAsync(WebSocket socket, Session session, CancellationTokenSource lifetime)
    {
        try
        {
            await foreach (var payload in session.Outbound.Reader.ReadAllAsync(lifetime.Token).ConfigureAwait(false))
            {
                await socket.SendAsync(payload, WebSocketMessageType.Text, true, lifetime.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended; the receive loop reports why.
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            LogSendFailed(ex);
            await lifetime.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task DispatchLoopAsync()
    {
        await foreach (var item in _dispatch.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (item.Event is null)
                {
                    Connected?.Invoke(this, EventArgs.Empty);
                }
                else
                {
                    EventReceived?.Invoke(this, item.Event);
                }
            }
            catch (Exception ex)
            {
                LogSubscriberFailed(item.Event?.EventType ?? "Connected", ex);
            }
        }
    }

    private static async Task<byte[]?> ReceiveAsync(WebSocket socket, ReceiveBuffer buffer, CancellationToken ct)
    {
        buffer.Message.SetLength(0);
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.Chunk.AsMemory(), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await CloseQuietlyAsync(socket).ConfigureAwait(false);
                return null;
            }

            buffer.Message.Write(buffer.Chunk, 0, result.Count);
            if (buffer.Message.Length > MaxMessageBytes)
            {
                throw new InvalidOperationException($"OBS sent a message larger than {MaxMessageBytes} bytes.");
            }

            if (result.EndOfMessage)
            {
                return buffer.Message.ToArray();
            }
        }
    }

    private static async Task CloseQuietlyAsync(WebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing a socket that is already gone: nothing left to tell OBS.
            _ = ex;
        }
    }

    private void SetState(ObsConnectionState state, string? error = null)
    {
        lock (_gate)
        {
            _state = state;
            if (error is not null)
            {
                _lastError = error;
            }
        }
    }

    /// <summary>Reused per connection: one receive chunk and one message accumulator, no per-message allocation
    /// besides the message itself.</summary>
    private sealed class ReceiveBuffer
    {
        public byte[] Chunk { get; } = new byte[16 * 1024];

        public MemoryStream Message { get; } = new();
    }

    private readonly record struct SessionOutcome(bool WasIdentified, int? CloseCode, string? Error);

    private readonly record struct DispatchItem(ObsEvent? Event);

    private sealed class Session(Channel<byte[]> outbound)
    {
        public Channel<byte[]> Outbound { get; } = outbound;

        public ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> Pending { get; } = new();

        public volatile bool IsClosed;

        public volatile bool Identified;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS connected at {Url} (OBS {ObsVersion}, obs-websocket {ObsWebSocketVersion})")]
    private partial void LogConnected(Uri url, string? obsVersion, string? obsWebSocketVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS version {ObsVersion}")]
    private partial void LogObsVersion(string? obsVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS not reachable at {Url}; retrying in the background")]
    private partial void LogUnreachable(Uri url, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "OBS still not reachable at {Url}: {Reason}")]
    private partial void LogStillUnreachable(Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS at {Url} refused the connection with close code {CloseCode}: {Error} Next attempt in {RetrySeconds} s")]
    private partial void LogRejected(Uri url, int closeCode, string error, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS at {Url} invalidated this session (close 4011); not reconnecting")]
    private partial void LogSessionInvalidated(Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection to OBS at {Url} lost; reconnecting")]
    private partial void LogConnectionLost(Uri url, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS at {Url} closed the connection: {CloseCode} {Reason}")]
    private partial void LogClosedByObs(Uri url, int? closeCode, string? reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Count} pending OBS requests failed because the connection ended")]
    private partial void LogPendingFailed(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS request {RequestType} ({RequestId}) timed out after {TimeoutMs} ms")]
    private partial void LogRequestTimedOut(string requestType, string requestId, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "OBS response for unknown or expired request id {RequestId}")]
    private partial void LogUnmatchedResponse(string? requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS event subscribers are too slow: {Dropped} events dropped so far (latest {EventType})")]
    private partial void LogEventsDropped(long dropped, string eventType);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignoring OBS message with op {Op}")]
    private partial void LogUnexpectedOp(int op);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending to OBS failed; dropping the connection")]
    private partial void LogSendFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS subscriber for {EventType} threw")]
    private partial void LogSubscriberFailed(string eventType, Exception exception);
}
