using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionSidecar.ObsBridge;

/// <summary>obs-websocket v5 message op codes (<c>{"op": n, "d": {...}}</c>).</summary>
public enum ObsOpCode
{
    /// <summary>Server greeting, may carry an authentication challenge.</summary>
    Hello = 0,

    /// <summary>Client identification (rpc version, authentication, event subscriptions).</summary>
    Identify = 1,

    /// <summary>Server accepted the Identify (or Reidentify).</summary>
    Identified = 2,

    /// <summary>Client changes its event subscriptions.</summary>
    Reidentify = 3,

    /// <summary>Server event.</summary>
    Event = 5,

    /// <summary>Client request.</summary>
    Request = 6,

    /// <summary>Server response to a request.</summary>
    RequestResponse = 7,

    /// <summary>Client request batch.</summary>
    RequestBatch = 8,

    /// <summary>Server response to a request batch.</summary>
    RequestBatchResponse = 9,
}

/// <summary>Event subscription bits of the Identify message.</summary>
[Flags]
public enum ObsEventSubscription : long
{
    /// <summary>No events.</summary>
    None = 0,

    /// <summary>General events (ExitStarted, CustomEvent).</summary>
    General = 1 << 0,

    /// <summary>Scene collection and profile changes.</summary>
    Config = 1 << 1,

    /// <summary>Scene events.</summary>
    Scenes = 1 << 2,

    /// <summary>Input events (InputCreated, InputRemoved, InputNameChanged ...).</summary>
    Inputs = 1 << 3,

    /// <summary>Output events (StreamStateChanged, RecordStateChanged ...).</summary>
    Outputs = 1 << 6,
}

/// <summary>WebSocket close codes that obs-websocket uses.</summary>
public static class ObsCloseCode
{
    /// <summary>Authentication missing or wrong.</summary>
    public const int AuthenticationFailed = 4009;

    /// <summary>The requested rpc version is not supported.</summary>
    public const int UnsupportedRpcVersion = 4010;

    /// <summary>The session was kicked from the OBS UI; the client must not reconnect on its own.</summary>
    public const int SessionInvalidated = 4011;
}

/// <summary>Request status codes (<c>requestStatus.code</c>) this library looks at.</summary>
public static class ObsStatusCode
{
    /// <summary>Request succeeded.</summary>
    public const int Success = 100;

    /// <summary>The request type is not known to this server.</summary>
    public const int UnknownRequestType = 204;

    /// <summary>OBS is starting, changing scene collection or exiting.</summary>
    public const int NotReady = 207;

    /// <summary>The output (e.g. the stream) is not running.</summary>
    public const int OutputNotRunning = 501;

    /// <summary>No source, input or scene with that name.</summary>
    public const int ResourceNotFound = 600;

    /// <summary>A source with that name already exists.</summary>
    public const int ResourceAlreadyExists = 601;
}

/// <summary>The authentication string of the Identify message.</summary>
public static class ObsAuthentication
{
    /// <summary>
    /// Computes <c>base64(sha256(base64(sha256(password + salt)) + challenge))</c>: the salt and challenge are used as
    /// the strings received in Hello (not decoded).
    /// </summary>
    public static string Compute(string password, string salt, string challenge)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(salt);
        ArgumentNullException.ThrowIfNull(challenge);
        var secret = Sha256Base64(password + salt);
        return Sha256Base64(secret + challenge);
    }

    private static string Sha256Base64(string text) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>One request of a batch.</summary>
/// <param name="RequestType">The request type, e.g. <c>SetInputSettings</c>.</param>
/// <param name="RequestData">The request data, or null when the request takes none.</param>
public sealed record ObsRequest(string RequestType, JsonObject? RequestData = null);

/// <summary>A response to a request (op 7, or one result of op 9).</summary>
/// <param name="RequestType">Echoed request type.</param>
/// <param name="RequestId">Echoed request id (null for batch results without one).</param>
/// <param name="Code">Status code, 100 on success.</param>
/// <param name="Comment">Error comment, when OBS gave one.</param>
/// <param name="ResponseData">Response data, when the request returns any.</param>
public sealed record ObsResponse(string RequestType, string? RequestId, int Code, string? Comment, JsonElement? ResponseData)
{
    /// <summary>True when the code is 100 (Success).</summary>
    public bool IsSuccess => Code == ObsStatusCode.Success;

    /// <summary>Returns this response, or throws <see cref="ObsRequestFailedException"/> when it failed.</summary>
    public ObsResponse EnsureSuccess() => IsSuccess ? this : throw new ObsRequestFailedException(RequestType, Code, Comment);

    /// <summary>The response data, or throws when the response has none.</summary>
    public JsonElement Data => ResponseData
        ?? throw new InvalidOperationException($"OBS answered {RequestType} without responseData.");
}

/// <summary>An event (op 5).</summary>
/// <param name="EventType">Event type, e.g. <c>StreamStateChanged</c>.</param>
/// <param name="EventIntent">Subscription bit the event belongs to.</param>
/// <param name="EventData">Event data, when the event has any.</param>
public sealed record ObsEvent(string EventType, long EventIntent, JsonElement? EventData);

/// <summary>Writes and reads obs-websocket JSON messages.</summary>
internal static class ObsProtocol
{
    public const string SubProtocol = "obswebsocket.json";
    public const int RpcVersion = 1;

    public static byte[] Identify(string? authentication, ObsEventSubscription subscriptions) => Write(ObsOpCode.Identify, w =>
    {
        w.WriteNumber("rpcVersion", RpcVersion);
        if (authentication is not null)
        {
            w.WriteString("authentication", authentication);
        }

        w.WriteNumber("eventSubscriptions", (long)subscriptions);
    });

    public static byte[] Request(string requestId, string requestType, JsonObject? requestData) => Write(ObsOpCode.Request, w =>
    {
        w.WriteString("requestType", requestType);
        w.WriteString("requestId", requestId);
        if (requestData is not null)
        {
            w.WritePropertyName("requestData");
            requestData.WriteTo(w);
        }
    });

    public static byte[] RequestBatch(string requestId, IReadOnlyList<ObsRequest> requests, bool haltOnFailure, int executionType) =>
        Write(ObsOpCode.RequestBatch, w =>
        {
            w.WriteString("requestId", requestId);
            w.WriteBoolean("haltOnFailure", haltOnFailure);
            w.WriteNumber("executionType", executionType);
            w.WriteStartArray("requests");
            for (var i = 0; i < requests.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("requestType", requests[i].RequestType);
                w.WriteString("requestId", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (requests[i].RequestData is { } data)
                {
                    w.WritePropertyName("requestData");
                    data.WriteTo(w);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });

    /// <summary>Parses a message into its op code and <c>d</c>, which does not depend on <paramref name="utf8"/> (the
    /// receive buffer is reused).</summary>
    /// <exception cref="JsonException">The message is not an obs-websocket message.</exception>
    public static (ObsOpCode Op, JsonElement Data) Parse(ReadOnlySpan<byte> utf8)
    {
        // ParseValue copies the bytes into a document that needs no disposal: one copy, no Clone.
        var reader = new Utf8JsonReader(utf8);
        var root = JsonElement.ParseValue(ref reader);
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("op", out var op) || op.ValueKind != JsonValueKind.Number
            || !root.TryGetProperty("d", out var d) || d.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("Not an obs-websocket message: expected {\"op\": number, \"d\": object}.");
        }

        return ((ObsOpCode)op.GetInt32(), d);
    }

    public static ObsResponse ParseResponse(JsonElement d)
    {
        var status = d.GetProperty("requestStatus");
        return new ObsResponse(
            d.TryGetProperty("requestType", out var type) ? type.GetString() ?? string.Empty : string.Empty,
            d.TryGetProperty("requestId", out var id) ? id.GetString() : null,
            status.GetProperty("code").GetInt32(),
            status.TryGetProperty("comment", out var comment) ? comment.GetString() : null,
            d.TryGetProperty("responseData", out var data) ? data : null);
    }

    public static ObsEvent ParseEvent(JsonElement d) => new(
        d.GetProperty("eventType").GetString() ?? string.Empty,
        d.TryGetProperty("eventIntent", out var intent) ? intent.GetInt64() : 0,
        d.TryGetProperty("eventData", out var data) ? data : null);

    private static byte[] Write(ObsOpCode op, Action<Utf8JsonWriter> writeData)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("op", (int)op);
            w.WriteStartObject("d");
            writeData(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
