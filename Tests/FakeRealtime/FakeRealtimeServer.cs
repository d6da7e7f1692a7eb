using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// A protocol-exact fake of the OpenAI Realtime WebSocket API (GA event names) on loopback, for tests and local
/// runs: <c>/v1/realtime</c> with API-key auth checked before the upgrade, transcription sessions with an energy VAD
/// on audio time, scripted transcripts (per speaker if asked), text-only translation of audio turns or of text
/// messages with usage like the service's, session expiry and fault injection.
/// </summary>
public sealed partial class FakeRealtimeServer : IAsyncDisposable
{
    private const string RealtimePath = "/v1/realtime";
    private const string InsecureKeyProtocolPrefix = "openai-insecure-api-key.";

    private readonly FakeRealtimeOptions _options;
    private readonly LanguageStalls _stalls = new();
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Lock _gate = new();
    private readonly List<FakeSession> _sessions = [];
    private readonly Dictionary<FakeSession, RealtimeConnection> _open = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _rejectConnections;

    private FakeRealtimeServer(FakeRealtimeOptions options, WebApplication app)
    {
        _options = options;
        _app = app;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionSidecar.FakeRealtime");
        _rejectConnections = options.RejectConnections;
        _refuseUpgrades = options.RefuseUpgrades;
        _closeAfterSessionCreated = options.CloseAfterSessionCreated;
        _hangUpUpgrades = options.HangUpUpgrades;
        Faults = new FakeFaults(this);
    }

    /// <summary>The API endpoint a client configures, <c>http://127.0.0.1:PORT/v1</c> (the WebSocket is at <c>/v1/realtime</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The port the server listens on.</summary>
    public int Port => Endpoint.Port;

    /// <summary>Snapshot of every session accepted so far, open or ended, in order of acceptance.</summary>
    public IReadOnlyList<FakeSession> Sessions
    {
        get
        {
            lock (_gate)
            {
                return [.. _sessions];
            }
        }
    }

    /// <summary>
    /// Every schema problem of every session so far (see <see cref="FakeSession.SchemaViolations"/>), each line
    /// prefixed with its session id; empty when every event on the wire matched OpenAI's published schemas.
    /// </summary>
    public IReadOnlyList<string> SchemaViolations => [.. Sessions.SelectMany(s => s.SchemaViolations.Select(v => $"{s.Id}: {v}"))];

    /// <summary>Fault injection on open sessions.</summary>
    public FakeFaults Faults { get; }

    /// <summary>While true, upgrades are answered with HTTP 503 (for retry tests); starts as <see cref="FakeRealtimeOptions.RejectConnections"/>.</summary>
    public bool RejectConnections
    {
        get => _rejectConnections;
        set => _rejectConnections = value;
    }

    /// <summary>Starts the server on 127.0.0.1 and returns once it is listening.</summary>
    public static async Task<FakeRealtimeServer> StartAsync(FakeRealtimeOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "FakeRealtime", Args = [] });
        FakeRealtimeServer? server = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port,
            listen => listen.Use(next => connection => server!.AcceptConnectionAsync(connection, next))));
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Logging.ClearProviders();

        // Logs go to stderr: stdout carries only the "listening" line of the standalone tool.
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        var app = builder.Build();
        server = new FakeRealtimeServer(options, app);
        app.UseWebSockets();
        app.Map(RealtimePath, server.HandleRealtimeAsync);
        await app.StartAsync(ct);
        server.Endpoint = new Uri($"http://127.0.0.1:{new Uri(app.Urls.First()).Port}/v1");
        Log.Listening(server._logger, server.Endpoint);
        return server;
    }

    /// <summary>Waits until <paramref name="predicate"/> holds for the sessions (re-checked on every session change).</summary>
    /// <exception cref="TimeoutException">The predicate did not hold within <paramref name="timeout"/>; the message describes the sessions.</exception>
    public async Task WaitForSessionsAsync(Func<IReadOnlyList<FakeSession>, bool> predicate, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            var sessions = Sessions;
            if (predicate(sessions))
            {
                return;
            }

            var remaining = timeout - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The fake Realtime server's sessions did not reach the expected state within {timeout.TotalSeconds:0.#} s. {Describe(sessions)}");
            }

            try
            {
                await changed.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                // Checked once more at the top of the loop, then reported with the sessions' state.
            }
        }
    }

    /// <summary>Ends all sessions (abruptly) and stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }

        await _shutdown.CancelAsync();
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stopTimeout.Token);
        await _app.DisposeAsync();
        _shutdown.Dispose();
    }

    /// <summary>The server-wide set of stalled target languages (see <see cref="FakeFaults.StallLanguage"/>).</summary>
    internal LanguageStalls Stalls => _stalls;

    internal IReadOnlyList<RealtimeConnection> OpenConnections()
    {
        lock (_gate)
        {
            return [.. _open.Values];
        }
    }

    internal RealtimeConnection? ConnectionOf(FakeSession session)
    {
        lock (_gate)
        {
            return _open.GetValueOrDefault(session);
        }
    }

    private static string Describe(IReadOnlyList<FakeSession> sessions) =>
        sessions.Count == 0
            ? "No session was accepted."
            : $"{sessions.Count} session(s): " + string.Join("; ", sessions.Select(s =>
                $"{s.Id} ({s.SessionType}, {(s.IsOpen ? "open" : "ended")}, {s.ClientEventTypes.Count} client events, " +
                $"{s.AppendedBytes} audio bytes, {s.SpeechSpans.Count} speech spans, {s.CompletedTranscripts.Count} transcripts, " +
                $"{s.ConversationItemCount} conversation items, " +
                $"errors [{string.Join(", ", s.ErrorsSent)}])"));

    private void NotifyChanged()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    private async Task HandleRealtimeAsync(HttpContext context)
    {
        if (await RefusedAsync(context))
        {
            return;
        }

        if (_rejectConnections)
        {
            await RejectAsync(context, StatusCodes.Status503ServiceUnavailable, "server_error", "service_unavailable",
                "The server is temporarily unavailable. Please retry your request later.", "connections are being rejected");
            return;
        }

        var protocols = context.WebSockets.WebSocketRequestedProtocols;
        if (!IsAuthorized(context.Request, protocols))
        {
            await RejectAsync(context, StatusCodes.Status401Unauthorized, "invalid_request_error", "invalid_api_key",
                "Incorrect API key provided.", "missing or wrong API key");
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RejectAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "websocket_required",
                "This endpoint only accepts WebSocket upgrade requests.", "not a WebSocket request");
            return;
        }

        var intent = context.Request.Query["intent"].FirstOrDefault();
        var model = context.Request.Query["model"].FirstOrDefault();
        var type = intent == "transcription" ? FakeSessionType.Transcription : FakeSessionType.Realtime;
        var subProtocol = protocols.Contains("realtime") ? "realtime" : null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = subProtocol });

        var session = new FakeSession(RealtimeIds.Session(), type, intent, model, context.Request.Headers["OpenAI-Beta"].FirstOrDefault(), NotifyChanged);
        var connection = new RealtimeConnection(session, socket, context, _options, _stalls, _logger, _shutdown.Token);
        lock (_gate)
        {
            _sessions.Add(session);
            _open[session] = connection;
        }

        Log.SessionOpened(_logger, session.Id, type, intent, model);
        NotifyChanged();
        OnAccepted(connection);
        try
        {
            await connection.RunAsync();
        }
        finally
        {
            lock (_gate)
            {
                _open.Remove(session);
            }

            NotifyChanged();
        }
    }

    private bool IsAuthorized(HttpRequest request, IList<string> protocols)
    {
        var bearer = "Bearer " + _options.ApiKey;
        return request.Headers.Authorization.Any(value => string.Equals(value, bearer, StringComparison.Ordinal))
            || request.Headers["api-key"].Any(value => string.Equals(value, _options.ApiKey, StringComparison.Ordinal))
            || protocols.Contains(InsecureKeyProtocolPrefix + _options.ApiKey);
    }

    private async Task RejectAsync(HttpContext context, int status, string type, string code, string message, string reason)
    {
        Log.Rejected(_logger, reason, status);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject { ["error"] = new JsonObject { ["type"] = type, ["code"] = code, ["message"] = message } };
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
