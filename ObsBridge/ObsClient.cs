using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// obs-websocket v5 client: keeps one connection to OBS (reconnecting through <see cref="ObsClientOptions.Retry"/>),
/// sends requests with ids and timeouts, and delivers events in order on one dispatch loop.
/// </summary>
/// <remarks>
/// Each identified connection is an <c>ObsSession</c> (handshake, one send loop, one receive loop, pending requests);
/// this class runs one connection loop that opens sessions, classifies how they end and keeps the status. Events go
/// through a bounded channel to the dispatch loop, so a slow subscriber never blocks the receive loop (overflow is
/// dropped and counted). When a connection drops, every pending request fails at once with
/// <see cref="ObsConnectionLostException"/>. Callers of <see cref="SendRequestAsync"/> resume on the thread pool.
/// </remarks>
public sealed partial class ObsClient : IAsyncDisposable
{
    private readonly ObsClientOptions _options;
    private readonly ILogger<ObsClient> _logger;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _retry;
    private readonly string _url;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<DispatchItem> _dispatch;
    private readonly Lock _gate = new();

    private Task? _run;
    private Task? _dispatchLoop;
    private volatile ObsSession? _session;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextRequestId;
    private int _disposed;
    private long _droppedEvents;
    private long _connections;
    private bool _warnedThisOutage;
    private ObsConnectionState _state = ObsConnectionState.Stopped;
    private string? _lastError;
    private string? _obsVersion;
    private string? _obsWebSocketVersion;
    private DateTimeOffset? _connectedSince;

    /// <summary>Creates the client; call <see cref="Start"/> to connect.</summary>
    public ObsClient(IOptions<ObsClientOptions> options, ILogger<ObsClient> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options.Value;
        _options.Validate();
        _logger = logger;
        _time = timeProvider;
        _url = ObsUnreachable.Display(_options.Url);
        _retry = _options.Retry ?? ObsRetry.Default(_options.ReconnectInitialDelay, _options.ReconnectMaxDelay, timeProvider);
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
    public bool IsConnected => _session is { IsEnded: false };

    /// <summary>The connection loop once started; tests check that it ended (after 4011).</summary>
    internal Task? ConnectionLoop => _run;

    /// <summary>Starts connecting in the background (idempotent).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_run is not null || _disposed != 0)
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
        Task? run;
        lock (_gate)
        {
            if (_disposed != 0)
            {
                return;
            }

            _disposed = 1;
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
        if (session is null || session.IsEnded)
        {
            throw new ObsConnectionLostException($"OBS is not connected ({Status.State}); {requestType} was not sent.");
        }

        try
        {
            return await session.SendAsync(id, payload, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogRequestTimedOut(requestType, id, _options.RequestTimeout.TotalMilliseconds);
            throw new TimeoutException($"OBS did not answer {requestType} within {_options.RequestTimeout.TotalSeconds:0.###} s.");
        }
    }

    /// <summary>
    /// Opens a session (retrying through the pipeline), runs it until it ends, and starts over. A rejection (4009,
    /// 4010) is retried slowly after <see cref="ObsClientOptions.RejectedRetryDelay"/>; 4011 stops the loop.
    /// </summary>
    private async Task ConnectionLoopAsync(CancellationToken stopping)
    {
        ObsConnectionLostException? lost = null;
        while (!stopping.IsCancellationRequested)
        {
            SetState(ObsConnectionState.Connecting);
            Attempt attempt;
            try
            {
                attempt = await _retry.ExecuteAsync(async ct =>
                {
                    // A lost session counts as the outage's first failed attempt, so the first reconnect waits one
                    // jittered delay: a peer that closes right after Identified is not hammered in a tight loop.
                    if (lost is { } previous)
                    {
                        lost = null;
                        throw previous;
                    }

                    return await ConnectOnceAsync(ct).ConfigureAwait(false);
                }, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ObsConnectionLostException ex)
            {
                // Only a pipeline with a retry limit gets here.
                SetState(ObsConnectionState.Disconnected, ex.Message);
                LogGaveUp(_url, ex.Message);
                return;
            }

            if (attempt.Session is null)
            {
                if (!await RejectedAsync(attempt.CloseCode, stopping).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            var end = await RunSessionAsync(attempt.Session, stopping).ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                break;
            }

            if (end.CloseCode is ObsCloseCode.SessionInvalidated or ObsCloseCode.AuthenticationFailed or ObsCloseCode.UnsupportedRpcVersion)
            {
                if (!await RejectedAsync(end.CloseCode.Value, stopping).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            LogConnectionLost(_url, end.Reason);
            _warnedThisOutage = true; // the loss was this outage's warning
            SetState(ObsConnectionState.Disconnected, end.Reason);
            lost = new ObsConnectionLostException(end.Reason);
        }
    }

    /// <summary>One connect and handshake. Returns the session, or the rejection (4009, 4010, 4011); throws
    /// <see cref="ObsConnectionLostException"/> (retried by the pipeline) when OBS is not reachable.</summary>
    private async Task<Attempt> ConnectOnceAsync(CancellationToken stopping)
    {
        try
        {
            return new Attempt(await ObsSession.ConnectAsync(_options, _time, stopping).ConfigureAwait(false), 0);
        }
        catch (ObsRejectedException ex) when (ex.CloseCode is ObsCloseCode.AuthenticationFailed or ObsCloseCode.UnsupportedRpcVersion
                                                  or ObsCloseCode.SessionInvalidated)
        {
            return new Attempt(null, ex.CloseCode.Value);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or SocketException or IOException
                                       or TimeoutException or JsonException or InvalidDataException or KeyNotFoundException
                                       or InvalidOperationException or ObsRejectedException or AuthenticationException
                                   || (ex is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            var message = $"OBS is not reachable at {_url} ({ObsUnreachable.Describe(ex)})";
            SetState(ObsConnectionState.Disconnected, message);
            if (!_warnedThisOutage)
            {
                // One readable line per outage, no stack trace: OBS not running is an expected condition.
                _warnedThisOutage = true;
                LogUnreachable(message);
            }
            else
            {
                LogStillUnreachable(_url, ObsUnreachable.Describe(ex));
            }

            throw new ObsConnectionLostException(message, ex);
        }
    }

    /// <summary>Reports a rejection; waits the slow retry delay and returns true, or returns false when the loop ends.</summary>
    private async Task<bool> RejectedAsync(int closeCode, CancellationToken stopping)
    {
        switch (closeCode)
        {
            case ObsCloseCode.AuthenticationFailed:
                var authError = string.IsNullOrEmpty(_options.Password)
                    ? "OBS requires a password (close 4009 Authentication failed): set the OBS WebSocket password."
                    : "OBS rejected the password (close 4009 Authentication failed): check the OBS WebSocket password.";
                LogRejected(_url, ObsCloseCode.AuthenticationFailed, authError, _options.RejectedRetryDelay.TotalSeconds);
                SetState(ObsConnectionState.AuthenticationFailed, authError);
                break;
            case ObsCloseCode.UnsupportedRpcVersion:
                const string rpcError = "OBS does not support obs-websocket rpc version 1 (close 4010): OBS 28 or newer is required.";
                LogRejected(_url, ObsCloseCode.UnsupportedRpcVersion, rpcError, _options.RejectedRetryDelay.TotalSeconds);
                SetState(ObsConnectionState.UnsupportedRpcVersion, rpcError);
                break;
            default:
                const string kicked = "The session was removed in OBS (close 4011); not reconnecting until restarted.";
                SetState(ObsConnectionState.SessionInvalidated, kicked);
                LogSessionInvalidated(_url);
                return false;
        }

        _warnedThisOutage = true; // the rejection was the outage's warning
        try
        {
            await Task.Delay(_options.RejectedRetryDelay, _time, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<SessionEnd> RunSessionAsync(ObsSession session, CancellationToken stopping)
    {
        lock (_gate)
        {
            _obsVersion = session.ObsVersion;
            _obsWebSocketVersion = session.ObsWebSocketVersion;
        }

        // Connected before the Connected event: its subscribers send requests (queued until the loops run).
        _session = session;
        lock (_gate)
        {
            _state = ObsConnectionState.Connected;
            _lastError = null;
            _connectedSince = _time.GetUtcNow();
            _connections++;
            _connected.TrySetResult();
        }

        _warnedThisOutage = false;
        LogConnected(_url, session.ObsVersion, session.ObsWebSocketVersion);

        // obs-websocket before 5.3 has no obsStudioVersion in Hello; GetVersion has it. Awaited below: it ends with the session.
        var versionRead = session.ObsVersion is null ? ReadObsVersionAsync(stopping) : Task.CompletedTask;
        SessionEnd end;
        try
        {
            // Before the receive loop starts, so Connected precedes every event of this session.
            await _dispatch.Writer.WriteAsync(new DispatchItem(null), stopping).ConfigureAwait(false);
            var run = session.RunAsync(OnEvent);
            await using (stopping.UnsafeRegister(static s => ((ObsSession)s!).Stop(), session).ConfigureAwait(false))
            {
                end = await run.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            end = new SessionEnd(null, "stopped");
        }

        _session = null;
        lock (_gate)
        {
            _connectedSince = null;
            if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        // Disposing ends the session (if its loops never ran) and fails what still waits, the version read included.
        await session.DisposeAsync().ConfigureAwait(false);
        await versionRead.ConfigureAwait(false);
        return end;
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

                LogObsVersion(v.GetString());
            }
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or OperationCanceledException)
        {
            LogStillUnreachable(_url, ex.Message);
        }
    }

    /// <summary>On the receive loop: hands the event to the dispatch loop without waiting (dropped and counted when full).</summary>
    private void OnEvent(ObsEvent evt)
    {
        if (!_dispatch.Writer.TryWrite(new DispatchItem(evt)))
        {
            var dropped = Interlocked.Increment(ref _droppedEvents);
            if ((dropped & (dropped - 1)) == 0)
            {
                LogEventsDropped(dropped, evt.EventType);
            }
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
                // A subscriber's bug must not end event delivery for the others.
                LogSubscriberFailed(item.Event?.EventType ?? "Connected", ex);
            }
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

    private readonly record struct Attempt(ObsSession? Session, int CloseCode);

    private readonly record struct DispatchItem(ObsEvent? Event);

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS connected at {Url} (OBS {ObsVersion}, obs-websocket {ObsWebSocketVersion})")]
    private partial void LogConnected(string url, string? obsVersion, string? obsWebSocketVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS version {ObsVersion}")]
    private partial void LogObsVersion(string? obsVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}: start OBS and enable its WebSocket server (Tools > WebSocket Server Settings); retrying")]
    private partial void LogUnreachable(string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "OBS still not reachable at {Url}: {Reason}")]
    private partial void LogStillUnreachable(string url, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS at {Url} refused the connection with close code {CloseCode}: {Error} Next attempt in {RetrySeconds} s")]
    private partial void LogRejected(string url, int closeCode, string error, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS at {Url} invalidated this session (close 4011); not reconnecting")]
    private partial void LogSessionInvalidated(string url);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS at {Url} is still not reachable and the retry policy gave up: {Reason}")]
    private partial void LogGaveUp(string url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection to OBS at {Url} lost ({Reason}); reconnecting")]
    private partial void LogConnectionLost(string url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS request {RequestType} ({RequestId}) timed out after {TimeoutMs} ms")]
    private partial void LogRequestTimedOut(string requestType, string requestId, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS event subscribers are too slow: {Dropped} events dropped so far (latest {EventType})")]
    private partial void LogEventsDropped(long dropped, string eventType);

    [LoggerMessage(Level = LogLevel.Error, Message = "OBS subscriber for {EventType} threw")]
    private partial void LogSubscriberFailed(string eventType, Exception exception);
}
