using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.ObsBridge.Tests.Fakes;

/// <summary>
/// A protocol-exact obs-websocket v5 server on Kestrel (127.0.0.1, port 0): Hello with or without authentication,
/// the Identify checks and close codes in the reference's order, requests with status codes, batches, events by
/// subscription, and a small simulated OBS (inputs, scenes, stream state).
/// </summary>
public sealed class FakeObsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _salt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly ConcurrentDictionary<Guid, FakeSession> _sessions = new();

    private FakeObsServer(WebApplication app) => _app = app;

    /// <summary>Password required in Identify; null = no authentication (Hello without the object).</summary>
    public string? Password { get; set; }

    /// <summary>When false, requests are received but never answered.</summary>
    public bool AnswerRequests { get; set; } = true;

    /// <summary>When set, every Identify is answered by closing with this code (e.g. 4010 for an OBS that does not speak
    /// rpc version 1, 4011 for a session kicked from the OBS UI).</summary>
    public int? IdentifyCloseCode { get; set; }

    /// <summary>When true, WebSocket upgrades are refused with 503 (OBS is down).</summary>
    public bool Down { get; set; }

    /// <summary>When true, responses to single requests are held until <see cref="ReleaseHeldAsync"/>.</summary>
    public bool HoldResponses { get; set; }

    /// <summary>How many responses are held.</summary>
    public int HeldResponses
    {
        get
        {
            lock (_held)
            {
                return _held.Count;
            }
        }
    }

    private readonly List<(FakeSession Session, JsonObject Response)> _held = [];

    /// <summary>Sends the held responses, last received first (so they overtake each other).</summary>
    public async Task ReleaseHeldAsync()
    {
        List<(FakeSession Session, JsonObject Response)> held;
        lock (_held)
        {
            held = [.. _held];
            _held.Clear();
        }

        held.Reverse();
        foreach (var (session, response) in held)
        {
            await session.SendAsync(7, response);
        }
    }

    public bool Streaming { get; set; }

    /// <summary>How many of the next SendStreamCaption requests are answered with status 500 (OBS refusing).</summary>
    public int RefuseStreamCaptions
    {
        get => Volatile.Read(ref _refuseStreamCaptions);
        set => Volatile.Write(ref _refuseStreamCaptions, value);
    }

    private int _refuseStreamCaptions;

    public string CurrentScene { get; set; } = "Scene";

    public List<string> InputKinds { get; } = ["text_ft2_source_v2", "image_source", "color_source_v3"];

    /// <summary>Inputs by name: kind and explicitly set settings.</summary>
    public ConcurrentDictionary<string, (string Kind, JsonObject Settings, string Scene)> Inputs { get; } = new();

    /// <summary>Audio inputs by name and whether each is muted (GetInputMute, SetInputMute, GetInputList). An input
    /// in <see cref="Inputs"/> but not here has no audio (GetInputMute answers 604).</summary>
    public ConcurrentDictionary<string, bool> InputMuted { get; } = new();

    /// <summary>Every request received, in order (type and data).</summary>
    public ConcurrentQueue<(string Type, JsonObject? Data)> Requests { get; } = new();

    /// <summary>Completes each time a request arrives (for tests that wait for a request).</summary>
    public event Action<string>? RequestReceived;

    public int ConnectionAttempts => _connectionAttempts;

    public int IdentifiedSessions => _sessions.Values.Count(s => s.Identified);

    private int _connectionAttempts;

    public Uri Url { get; private set; } = new("ws://127.0.0.1:0");

    public static async Task<FakeObsServer> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeObsServer(app);
        app.UseWebSockets();
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal));
        return server;
    }

    /// <summary>Closes every session with the given code (e.g. 1001 "Server stopping.").</summary>
    public async Task CloseAllAsync(int code, string reason)
    {
        foreach (var s in _sessions.Values)
        {
            await s.CloseAsync(code, reason);
        }
    }

    /// <summary>Aborts every connection without a close handshake (like a killed OBS).</summary>
    public void AbortAll()
    {
        foreach (var s in _sessions.Values)
        {
            s.Socket.Abort();
        }
    }

    /// <summary>Sends an event to identified sessions whose subscription mask has the intent bit.</summary>
    public async Task EmitAsync(string eventType, long intent, JsonObject? data)
    {
        foreach (var s in _sessions.Values.Where(s => s.Identified && (s.Subscriptions & intent) != 0))
        {
            var d = new JsonObject { ["eventType"] = eventType, ["eventIntent"] = intent };
            if (data is not null)
            {
                d["eventData"] = data.DeepClone();
            }

            await s.SendAsync(5, d);
        }
    }

    public async ValueTask DisposeAsync()
    {
        AbortAll();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest || Down)
        {
            context.Response.StatusCode = Down ? 503 : 400;
            return;
        }

        Interlocked.Increment(ref _connectionAttempts);
        var protocol = context.WebSockets.WebSocketRequestedProtocols.Contains("obswebsocket.json") ? "obswebsocket.json" : null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol);
        var session = new FakeSession(socket);
        var id = Guid.NewGuid();
        _sessions[id] = session;
        try
        {
            await RunSessionAsync(session, context.RequestAborted);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // Client went away.
        }
        finally
        {
            _sessions.TryRemove(id, out _);
        }
    }

    private async Task RunSessionAsync(FakeSession session, CancellationToken ct)
    {
        var challenge = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var hello = new JsonObject { ["obsStudioVersion"] = "30.2.2", ["obsWebSocketVersion"] = "5.5.2", ["rpcVersion"] = 1 };
        if (Password is not null)
        {
            hello["authentication"] = new JsonObject { ["challenge"] = challenge, ["salt"] = _salt };
        }

        await session.SendAsync(0, hello);
        var buffer = new byte[1 << 20];
        while (session.Socket.State == WebSocketState.Open)
        {
            var message = await ReceiveAsync(session.Socket, buffer, ct);
            if (message is null)
            {
                return;
            }

            JsonObject root;
            try
            {
                root = JsonNode.Parse(message) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException)
            {
                await session.CloseAsync(4002, "Unable to decode message.");
                return;
            }

            if (root["op"] is not JsonValue opValue || !opValue.TryGetValue<int>(out var op))
            {
                await session.CloseAsync(4006, "Your request is missing an `op`.");
                return;
            }

            if (root["d"] is not JsonObject d)
            {
                await session.CloseAsync(root["d"] is null ? 4003 : 4004, "Your `d` is missing or not an object.");
                return;
            }

            if (!session.Identified && op != 1)
            {
                await session.CloseAsync(4007, "You must identify before sending other messages.");
                return;
            }

            switch (op)
            {
                case 1:
                    if (session.Identified)
                    {
                        await session.CloseAsync(4008, "You are already identified with the obs-websocket server.");
                        return;
                    }

                    if (IdentifyCloseCode is { } forced)
                    {
                        await session.CloseAsync(forced, forced == 4010
                            ? "Your requested RPC version is not supported by this server."
                            : "Your session has been invalidated.");
                        return;
                    }

                    if (Password is not null)
                    {
                        var expected = ObsAuthentication.Compute(Password, _salt, challenge);
                        if (d["authentication"] is not JsonValue a || !a.TryGetValue<string>(out var given) || given != expected)
                        {
                            await session.CloseAsync(4009, "Authentication failed.");
                            return;
                        }
                    }

                    if (d["rpcVersion"] is not JsonValue rv)
                    {
                        await session.CloseAsync(4003, "Your payload's data is missing an `rpcVersion`.");
                        return;
                    }

                    if (!rv.TryGetValue<long>(out var rpc) || rpc < 0)
                    {
                        await session.CloseAsync(4004, "Your `rpcVersion` is not an unsigned number.");
                        return;
                    }

                    if (rpc != 1)
                    {
                        await session.CloseAsync(4010, "Your requested RPC version is not supported by this server.");
                        return;
                    }

                    session.Subscriptions = d["eventSubscriptions"] is JsonValue es && es.TryGetValue<long>(out var mask) ? mask : 2047;
                    session.Identified = true;
                    await session.SendAsync(2, new JsonObject { ["negotiatedRpcVersion"] = 1 });
                    break;
                case 6:
                    if (d["requestId"] is null || d["requestType"] is null)
                    {
                        await session.CloseAsync(4003, "Your request is missing a `requestId` or `requestType`.");
                        return;
                    }

                    var type = d["requestType"]!.GetValue<string>();
                    Requests.Enqueue((type, d["requestData"] as JsonObject));
                    RequestReceived?.Invoke(type);
                    if (!AnswerRequests)
                    {
                        break;
                    }

                    var response = Execute(type, d["requestData"] as JsonObject);
                    response["requestId"] = d["requestId"]!.DeepClone();
                    if (HoldResponses)
                    {
                        lock (_held)
                        {
                            _held.Add((session, response));
                        }

                        break;
                    }

                    await session.SendAsync(7, response);
                    break;
                case 8:
                    var results = new JsonArray();
                    foreach (var r in d["requests"]!.AsArray().OfType<JsonObject>())
                    {
                        var rtype = r["requestType"]!.GetValue<string>();
                        Requests.Enqueue((rtype, r["requestData"] as JsonObject));
                        var result = Execute(rtype, r["requestData"] as JsonObject);
                        if (r["requestId"] is { } innerId)
                        {
                            result["requestId"] = innerId.DeepClone();
                        }

                        results.Add(result);
                    }

                    if (AnswerRequests)
                    {
                        await session.SendAsync(9, new JsonObject { ["requestId"] = d["requestId"]!.DeepClone(), ["results"] = results });
                    }

                    break;
                default:
                    await session.CloseAsync(4006, "Unknown op code.");
                    return;
            }
        }
    }

    private JsonObject Execute(string type, JsonObject? data)
    {
        JsonObject Ok(JsonObject? responseData = null)
        {
            var o = new JsonObject { ["requestType"] = type, ["requestStatus"] = new JsonObject { ["result"] = true, ["code"] = 100 } };
            if (responseData is not null)
            {
                o["responseData"] = responseData;
            }

            return o;
        }

        JsonObject Fail(int code, string? comment = null)
        {
            var status = new JsonObject { ["result"] = false, ["code"] = code };
            if (comment is not null)
            {
                status["comment"] = comment;
            }

            return new JsonObject { ["requestType"] = type, ["requestStatus"] = status };
        }

        string? Field(string name) => data?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        switch (type)
        {
            case "GetVersion":
                return Ok(new JsonObject
                {
                    ["obsVersion"] = "30.2.2", ["obsWebSocketVersion"] = "5.5.2", ["rpcVersion"] = 1,
                    ["availableRequests"] = new JsonArray("GetVersion", "SetInputSettings"), ["platform"] = "ubuntu",
                });
            case "GetCurrentProgramScene":
                return Ok(new JsonObject { ["currentProgramSceneName"] = CurrentScene, ["sceneName"] = CurrentScene });
            case "GetInputKindList":
                return Ok(new JsonObject { ["inputKinds"] = new JsonArray(InputKinds.Select(k => (JsonNode)JsonValue.Create(k)!).ToArray()) });
            case "GetStreamStatus":
                return Ok(new JsonObject { ["outputActive"] = Streaming, ["outputReconnecting"] = false });
            case "CreateInput":
            {
                var name = Field("inputName");
                var kind = Field("inputKind");
                var scene = Field("sceneName");
                if (name is null || kind is null || scene is null)
                {
                    return Fail(300, "Your request is missing a field.");
                }

                if (!InputKinds.Contains(kind))
                {
                    return Fail(605, "Your specified input kind is not supported by OBS.");
                }

                var settings = data!["inputSettings"] as JsonObject ?? [];
                if (!Inputs.TryAdd(name, (kind, (JsonObject)settings.DeepClone(), scene)))
                {
                    return Fail(601, "A source already exists by that input name.");
                }

                return Ok(new JsonObject { ["inputUuid"] = Guid.NewGuid().ToString(), ["sceneItemId"] = Inputs.Count });
            }

            case "GetInputSettings":
            {
                var name = Field("inputName");
                return name is not null && Inputs.TryGetValue(name, out var input)
                    ? Ok(new JsonObject { ["inputSettings"] = input.Settings.DeepClone(), ["inputKind"] = input.Kind })
                    : Fail(600, $"No source was found by the name of `{name}`.");
            }

            case "SetInputSettings":
            {
                var name = Field("inputName");
                if (name is null || !Inputs.TryGetValue(name, out var input))
                {
                    return Fail(600, $"No source was found by the name of `{name}`.");
                }

                if (data!["inputSettings"] is not JsonObject given)
                {
                    return Fail(300, "Your request is missing the `inputSettings` field.");
                }

                var overlay = data["overlay"] is not JsonValue ov || ov.GetValue<bool>();
                var settings = overlay ? (JsonObject)input.Settings.DeepClone() : [];
                foreach (var (key, value) in given)
                {
                    settings[key] = value?.DeepClone();
                }

                Inputs[name] = (input.Kind, settings, input.Scene);
                return Ok();
            }

            case "SendStreamCaption":
                return !Streaming ? Fail(501) : Interlocked.Decrement(ref _refuseStreamCaptions) >= 0 ? Fail(500) : Ok();
            case "GetInputMute":
            {
                var name = Field("inputName");
                if (name is null)
                {
                    return Fail(300, "Your request is missing the `inputName` field.");
                }

                return InputMuted.TryGetValue(name, out var muted) ? Ok(new JsonObject { ["inputMuted"] = muted })
                    : Inputs.ContainsKey(name) ? Fail(604, "The specified input does not support audio.")
                    : Fail(600, $"No source was found by the name of `{name}`.");
            }

            case "SetInputMute":
            {
                var name = Field("inputName");
                if (name is null || !InputMuted.ContainsKey(name) || data!["inputMuted"] is not JsonValue m)
                {
                    return Fail(600, $"No source was found by the name of `{name}`.");
                }

                InputMuted[name] = m.GetValue<bool>();
                return Ok();
            }

            case "GetInputList":
                return Ok(new JsonObject
                {
                    ["inputs"] = new JsonArray(Inputs.Keys.Union(InputMuted.Keys).Order(StringComparer.Ordinal)
                        .Select(n => (JsonNode)new JsonObject { ["inputName"] = n }).ToArray()),
                });
            default:
                return Fail(204, "Your request type is not valid.");
        }
    }

    private static async Task<byte[]?> ReceiveAsync(WebSocket socket, byte[] buffer, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await socket.ReceiveAsync(buffer, ct);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            ms.Write(buffer, 0, r.Count);
            if (r.EndOfMessage)
            {
                return ms.ToArray();
            }
        }
    }

    private sealed class FakeSession(WebSocket socket)
    {
        private readonly SemaphoreSlim _send = new(1, 1);

        public WebSocket Socket { get; } = socket;

        public volatile bool Identified;

        public long Subscriptions;

        public async Task SendAsync(int op, JsonObject d)
        {
            var bytes = Encoding.UTF8.GetBytes(new JsonObject { ["op"] = op, ["d"] = d }.ToJsonString());
            await _send.WaitAsync();
            try
            {
                if (Socket.State == WebSocketState.Open)
                {
                    await Socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or IOException)
            {
                // Session already gone.
            }
            finally
            {
                _send.Release();
            }
        }

        public async Task CloseAsync(int code, string reason)
        {
            await _send.WaitAsync();
            try
            {
                if (Socket.State == WebSocketState.Open)
                {
                    await Socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or IOException)
            {
                // Session already gone.
            }
            finally
            {
                _send.Release();
            }
        }
    }
}
