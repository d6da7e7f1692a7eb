using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace CaptionSidecar.Overlay.WebSockets;

/// <summary>
/// Server-to-client WebSocket frames (RFC 6455 section 5.2): never masked, so one frame's bytes are the same for every
/// client and can be built once and written to each. Always whole (FIN set, no fragmentation, no extensions).
/// </summary>
internal static class WebSocketFrames
{
    /// <summary>The largest header of an unmasked frame: 2 bytes, then an 8-byte extended length.</summary>
    public const int MaxHeaderLength = 10;

    /// <summary>The largest payload of a control frame (close, ping, pong).</summary>
    public const int MaxControlPayload = 125;

    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    private const byte Fin = 0x80;

    /// <summary>An empty pong: the unsolicited heartbeat that keeps idle connections (and the proxies on their way) open.</summary>
    public static readonly FeedMessage Heartbeat = FeedMessage.Control(Build(Pong, []));

    /// <summary>Bytes of the header of an unmasked frame with a payload of <paramref name="payloadLength"/> bytes: 2, 4 or 10.</summary>
    public static int HeaderLength(int payloadLength) => payloadLength switch
    {
        < 0 => throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, "A payload length is never negative."),
        <= 125 => 2,
        <= ushort.MaxValue => 4,
        _ => 10,
    };

    /// <summary>Writes the header of a final, unmasked frame (7-, 16- or 64-bit length); returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, byte opcode, int payloadLength)
    {
        var length = HeaderLength(payloadLength);
        destination[0] = (byte)(Fin | opcode);
        switch (length)
        {
            case 2:
                destination[1] = (byte)payloadLength;
                break;
            case 4:
                destination[1] = 126;
                BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
                break;
            default:
                destination[1] = 127;
                BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
                break;
        }

        return length;
    }

    /// <summary>A whole frame: header, then <paramref name="payload"/>, in one array.</summary>
    public static byte[] Build(byte opcode, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderLength(payload.Length) + payload.Length];
        var header = WriteHeader(frame, opcode, payload.Length);
        payload.CopyTo(frame.AsSpan(header));
        return frame;
    }

    /// <summary>A close frame with <paramref name="status"/> and a short reason (cut to fit 125 bytes).</summary>
    public static byte[] BuildClose(WebSocketCloseStatus status, string? reason)
    {
        Span<byte> payload = stackalloc byte[MaxControlPayload];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        var length = 2;
        if (!string.IsNullOrEmpty(reason))
        {
            // ASCII reasons only are written here, so cutting at a byte boundary keeps the text valid UTF-8.
            length += Encoding.UTF8.GetBytes(reason.AsSpan(0, Math.Min(reason.Length, MaxControlPayload - 2)), payload[2..]);
        }

        return Build(Close, payload[..length]);
    }
}

/// <summary>
/// One message ready for every client: the whole frame (what the framed connections write) whose payload (what a
/// <see cref="System.Net.WebSockets.WebSocket"/> sends, framing it itself) is a slice of the same array.
/// </summary>
internal sealed class FeedMessage
{
    private FeedMessage(byte[] frame, int payloadOffset, bool isControl)
    {
        Frame = frame;
        PayloadOffset = payloadOffset;
        IsControl = isControl;
    }

    /// <summary>Header and payload.</summary>
    public byte[] Frame { get; }

    /// <summary>Where the payload starts in <see cref="Frame"/>.</summary>
    public int PayloadOffset { get; }

    /// <summary>True for a control frame (pong, close): only framed connections send these.</summary>
    public bool IsControl { get; }

    /// <summary>True for a close frame: nothing is sent after it.</summary>
    public bool IsClose => IsControl && (Frame[0] & 0x0F) == WebSocketFrames.Close;

    /// <summary>The payload (a slice of <see cref="Frame"/>).</summary>
    public ReadOnlyMemory<byte> Payload => Frame.AsMemory(PayloadOffset);

    /// <summary>A text message of <paramref name="utf8"/>, framed once (one copy of the payload).</summary>
    public static FeedMessage Text(ReadOnlySpan<byte> utf8)
    {
        var frame = WebSocketFrames.Build(WebSocketFrames.Text, utf8);
        return new FeedMessage(frame, frame.Length - utf8.Length, isControl: false);
    }

    /// <summary>A control frame built by <see cref="WebSocketFrames"/> (its payload is at most 125 bytes, so its header 2).</summary>
    public static FeedMessage Control(byte[] frame) =>
        frame.Length is >= 2 and <= 2 + WebSocketFrames.MaxControlPayload
            ? new(frame, 2, isControl: true)
            : throw new ArgumentException("A control frame has a payload of at most 125 bytes.", nameof(frame));
}
