using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>A raw WebSocket client of the Realtime protocol for tests of the fake server (no OpenAI library in between).</summary>
internal sealed class RealtimeTestClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private RealtimeTestClient(ClientWebSocket socket)
    {
        _socket = socket;
    }

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>The WebSocket URL of a server: <c>ws://127.0.0.1:PORT/v1/realtime?QUERY</c>.</summary>
    public static Uri RealtimeUri(FakeRealtimeServer server, string query = "intent=transcription") =>
        new($"ws://127.0.0.1:{server.Port}/v1/realtime?{query}");

    /// <summary>Connects; the socket keeps the HTTP status of a refused upgrade for inspection.</summary>
    public static async Task<RealtimeTestClient> ConnectAsync(FakeRealtimeServer server, CancellationToken ct, string? apiKey = "test-key", string query = "intent=transcription")
    {
        var socket = CreateSocket(apiKey);
        await socket.ConnectAsync(RealtimeUri(server, query), ct);
        return new RealtimeTestClient(socket);
    }

    public static ClientWebSocket CreateSocket(string? apiKey)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (apiKey is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + apiKey);
        }

        return socket;
    }

    public Task SendAsync(JsonObject evt, CancellationToken ct) => SendTextAsync(evt.ToJsonString(), ct);

    public async Task SendTextAsync(string text, CancellationToken ct) =>
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct);

    public async Task SendBinaryAsync(byte[] data, CancellationToken ct) =>
        await _socket.SendAsync(data, WebSocketMessageType.Binary, true, ct);

    /// <summary>Appends PCM16 audio in 100 ms events.</summary>
    public async Task AppendAudioAsync(byte[] pcm, CancellationToken ct)
    {
        for (var offset = 0; offset < pcm.Length; offset += 4800)
        {
            var chunk = pcm.AsSpan(offset, Math.Min(4800, pcm.Length - offset));
            await SendAsync(new JsonObject { ["type"] = "input_audio_buffer.append", ["audio"] = Convert.ToBase64String(chunk) }, ct);
        }
    }

    /// <summary>The next text message, or null when the server closed the socket.</summary>
    public async Task<string?> ReceiveTextAsync(CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return Encoding.UTF8.GetString(message.ToArray());
    }

    /// <summary>The next event (fails the test if the server closed or sent non-JSON).</summary>
    public async Task<JsonObject> ReceiveEventAsync(CancellationToken ct)
    {
        var text = await ReceiveTextAsync(ct) ?? throw new InvalidOperationException($"The server closed the socket ({_socket.CloseStatus}) while an event was expected.");
        return Assert.IsType<JsonObject>(JsonNode.Parse(text));
    }

    /// <summary>Receives events until one of <paramref name="type"/> arrives; returns all received, that one last.</summary>
    public async Task<List<JsonObject>> ReceiveUntilAsync(string type, CancellationToken ct, int count = 1)
    {
        var events = new List<JsonObject>();
        var seen = 0;
        while (seen < count)
        {
            var evt = await ReceiveEventAsync(ct);
            events.Add(evt);
            if (Type(evt) == type)
            {
                seen++;
            }
        }

        return events;
    }

    public static string? Type(JsonObject evt) => evt["type"]?.GetValue<string>();

    public async Task CloseAsync(CancellationToken ct)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", ct);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
