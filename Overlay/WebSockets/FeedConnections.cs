using System.Net.WebSockets;

namespace CaptionSidecar.Overlay.WebSockets;

/// <summary>Where a <see cref="CaptionSubscription"/> sends: one send in flight at a time (the subscription sees to it).</summary>
internal interface IFeedConnection
{
    /// <summary>True when it writes frames itself, so control frames (pong, close, heartbeat) go through the feed's queue too.</summary>
    bool SendsControlFrames { get; }

    /// <summary>Sends one message; completes synchronously while the connection takes it at once.</summary>
    ValueTask SendAsync(FeedMessage message);
}

/// <summary>
/// A connection whose upgrade this server accepted itself: the same pre-built frame bytes are written for every client
/// (server frames are unmasked), no framing or copying per client beyond the transport's own write.
/// </summary>
internal sealed class FramedStreamConnection(Stream stream) : IFeedConnection
{
    public bool SendsControlFrames => true;

    public ValueTask SendAsync(FeedMessage message) => stream.WriteAsync(message.Frame);
}

/// <summary>
/// A <see cref="WebSocket"/> (HTTP/2, or a host's own socket): it frames each payload itself and sends its own pings,
/// pongs and close frames, so control frames from the feed are not for it.
/// </summary>
internal sealed class WebSocketConnection(WebSocket socket) : IFeedConnection
{
    public bool SendsControlFrames => false;

    public ValueTask SendAsync(FeedMessage message) =>
        socket.SendAsync(message.Payload, WebSocketMessageType.Text, WebSocketMessageFlags.EndOfMessage, CancellationToken.None);
}
