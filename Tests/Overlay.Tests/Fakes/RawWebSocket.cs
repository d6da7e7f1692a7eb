using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace CaptionSidecar.Overlay.Tests.Fakes;

/// <summary>
/// A WebSocket client on a plain socket, byte by byte: it sends the handshake it is given and frames masked or not,
/// whole or split, and reads the server's frames as they are on the wire.
/// </summary>
public sealed class RawWebSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private byte[] _pending = [];

    private RawWebSocket(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public const string ExampleKey = "dGhlIHNhbXBsZSBub25jZQ==";

    /// <summary>The response's status line and headers (the handshake's answer).</summary>
    public string ResponseHead { get; private set; } = string.Empty;

    /// <summary>Connects and sends <paramref name="request"/> (a whole HTTP request head); reads the response head.</summary>
    public static async Task<RawWebSocket> ConnectAsync(int port, string request, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port, ct);
        var client = new RawWebSocket(socket);
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct);
        var head = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await client._stream.ReadAsync(buffer, ct);
            if (read == 0)
            {
                break;
            }

            head.AddRange(buffer.AsSpan(0, read));
            var all = head.ToArray();
            var end = all.AsSpan().IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                client.ResponseHead = Encoding.ASCII.GetString(all, 0, end);
                client._pending = all[(end + 4)..];
                break;
            }
        }

        return client;
    }

    /// <summary>A valid upgrade request for <paramref name="path"/>, with extra header lines if given.</summary>
    public static string Upgrade(string path, string key = ExampleKey, string version = "13", string extraHeaders = "") =>
        $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extraHeaders}\r\n";

    /// <summary>The body after the response head, up to the end of the connection (for refusals).</summary>
    public async Task<string> ReadBodyAsync(CancellationToken ct)
    {
        using var body = new MemoryStream();
        body.Write(_pending);
        await _stream.CopyToAsync(body, ct);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    /// <summary>A client frame: FIN as given, masked unless told not to (with a fixed non-zero key).</summary>
    public static byte[] Frame(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, byte reservedBits = 0)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | reservedBits | opcode) };
        var maskBit = masked ? 0x80 : 0;
        if (payload.Length <= 125)
        {
            frame.Add((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)payload.Length);
            frame.AddRange(length);
        }

        byte[] mask = [0x37, 0xfa, 0x21, 0x3d];
        if (masked)
        {
            frame.AddRange(mask);
        }

        for (var i = 0; i < payload.Length; i++)
        {
            frame.Add(masked ? (byte)(payload[i] ^ mask[i % 4]) : payload[i]);
        }

        return [.. frame];
    }

    /// <summary>A close frame's payload: the status, then the reason.</summary>
    public static byte[] ClosePayload(int status, string reason = "")
    {
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return payload;
    }

    public async Task SendAsync(byte[] bytes, CancellationToken ct)
    {
        await _stream.WriteAsync(bytes, ct);
        await _stream.FlushAsync(ct);
    }

    /// <summary>Reads the next server frame (which must be unmasked), or null when the connection ended.</summary>
    public async Task<(byte Opcode, bool Fin, byte[] Payload)?> ReadFrameAsync(CancellationToken ct)
    {
        if (await ReadExactlyAsync(2, ct) is not { } head)
        {
            return null;
        }

        Assert.Equal(0, head[1] & 0x80);
        Assert.Equal(0, head[0] & 0x70);
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2, ct) ?? throw new EndOfStreamException());
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8, ct) ?? throw new EndOfStreamException());
        }

        var payload = length == 0 ? [] : await ReadExactlyAsync((int)length, ct) ?? throw new EndOfStreamException();
        return ((byte)(head[0] & 0x0F), (head[0] & 0x80) != 0, payload);
    }

    /// <summary>Reads frames until one with <paramref name="opcode"/> (skipping heartbeats and updates), or null at the end.</summary>
    public async Task<byte[]?> ReadUntilAsync(byte opcode, CancellationToken ct)
    {
        while (await ReadFrameAsync(ct) is { } frame)
        {
            if (frame.Opcode == opcode)
            {
                return frame.Payload;
            }
        }

        return null;
    }

    /// <summary>True when the server ended the connection (after whatever it sent first).</summary>
    public async Task<bool> EndedAsync(CancellationToken ct)
    {
        while (await ReadFrameAsync(ct) is not null)
        {
        }

        return true;
    }

    private async Task<byte[]?> ReadExactlyAsync(int count, CancellationToken ct)
    {
        var result = new byte[count];
        var filled = Math.Min(count, _pending.Length);
        _pending.AsSpan(0, filled).CopyTo(result);
        _pending = _pending[filled..];
        while (filled < count)
        {
            int read;
            try
            {
                read = await _stream.ReadAsync(result.AsMemory(filled), ct);
            }
            catch (IOException)
            {
                read = 0;
            }

            if (read == 0)
            {
                return null;
            }

            filled += read;
        }

        return result;
    }

    public void Dispose() => _stream.Dispose();
}
