using System.Net.WebSockets;
using System.Text.Json;

namespace CaptionSidecar.Overlay.Tests.Fakes;

/// <summary>Reads caption updates from a feed socket.</summary>
public static class CaptionReader
{
    /// <summary>The next update, or null when the server closed the socket.</summary>
    public static async Task<OverlayCaption?> ReadAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return JsonSerializer.Deserialize(message.ToArray(), OverlayJsonContext.Default.OverlayCaption);
            }
        }
    }
}
