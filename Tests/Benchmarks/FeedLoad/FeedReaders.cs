using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace CaptionSidecar.Benchmarks.FeedLoad;

/// <summary>Where one feed client connects: the server, the request path, and optionally the local address to bind.</summary>
/// <param name="Server">The WebSocket server.</param>
/// <param name="Path">The request path with its query, for example <c>/ws/watch?stream=bench&amp;lang=en</c>.</param>
/// <param name="LocalAddress">The source address (another 127.0.0.x when one address runs out of ephemeral ports), or null.</param>
public sealed record FeedTarget(IPEndPoint Server, string Path, IPAddress? LocalAddress = null);

/// <summary>
/// N feed clients on plain sockets, read by a few dedicated threads with epoll: a minimal WebSocket handshake, then
/// non-blocking reads and an unmasked-frame parser. Receipt time is taken right after the read that completed a
/// frame. It costs the generator a few microseconds per receipt and no thread-pool work, so on a shared 2-core box
/// the latency measures the server rather than the generator's own scheduling (what 1,000 <c>ClientWebSocket</c>
/// receive loops used to add). Every frame is checked: text only, sequence present, strictly increasing per client
/// (a frame whose sequence is not above the previous one is counted in <see cref="FeedReceipts.OutOfOrder"/> and not
/// recorded). A connection the server closes or resets is counted as dropped (<see cref="FeedReceipts.Dropped"/>);
/// the others go on.
/// </summary>
public sealed partial class FeedReaders
{
    private const uint EpollIn = 0x001;
    private const uint EpollRdHup = 0x2000;
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const int Eintr = 4;
    private static readonly byte[] SequenceMarker = "\"sequence\":"u8.ToArray();

    private readonly IReadOnlyList<FeedTarget> _targets;
    private readonly Connection[] _connections;
    private readonly Thread[] _threads;
    private readonly TaskCompletionSource[] _connected;
    private readonly TaskCompletionSource[] _finished;
    private volatile bool _stop;

    /// <summary>
    /// Prepares one connection per target, split over <paramref name="threads"/> reader threads; a client is done once
    /// it received a sequence at or above <paramref name="lastSequence"/> (never, by default: then <see cref="StopAsync"/> ends the run).
    /// </summary>
    public FeedReaders(IReadOnlyList<FeedTarget> targets, int threads, long lastSequence = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException("The fan-out load generator uses epoll on x86-64 Linux; run it there.");
        }

        _targets = targets;
        var clients = targets.Count;
        _connections = new Connection[clients];
        _threads = new Thread[threads];
        _connected = new TaskCompletionSource[threads];
        _finished = new TaskCompletionSource[threads];
        for (var t = 0; t < threads; t++)
        {
            var first = clients * t / threads;
            var end = clients * (t + 1) / threads;
            var connected = _connected[t] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var finished = _finished[t] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _threads[t] = new Thread(() => Run(first, end, lastSequence, connected, finished))
            {
                IsBackground = true,
                Name = $"feed-reader-{t}",
            };
        }
    }

    /// <summary>What each client received (read it once the run is finished or stopped).</summary>
    public IReadOnlyList<FeedReceipts> Clients => _connections;

    /// <summary>Frames that arrived with a sequence not above the client's previous one (0 when the feed keeps order).</summary>
    public long OutOfOrder => _connections.Sum(c => c.OutOfOrder);

    /// <summary>Clients whose connection the server closed or reset during the run.</summary>
    public int Dropped => _connections.Count(c => c.Dropped is not null);

    /// <summary>Connects every client (handshakes done; a state message sent on connect may already be recorded).</summary>
    public Task StartAsync()
    {
        foreach (var thread in _threads)
        {
            thread.Start();
        }

        return Task.WhenAll(_connected.Select(c => c.Task));
    }

    /// <summary>Waits until every client has the last sequence (or was dropped), or gives up after <paramref name="timeout"/>.</summary>
    public async Task FinishAsync(TimeSpan timeout)
    {
        var all = Task.WhenAll(_finished.Select(f => f.Task));
        if (await Task.WhenAny(all, Task.Delay(timeout)) != all)
        {
            _stop = true;
        }

        await all;
    }

    /// <summary>Stops reading (within 100 ms) and closes every connection.</summary>
    public Task StopAsync()
    {
        _stop = true;
        return Task.WhenAll(_finished.Select(f => f.Task));
    }

    private void Run(int first, int end, long lastSequence, TaskCompletionSource connected, TaskCompletionSource finished)
    {
        var epoll = EpollCreate1(0);
        try
        {
            if (epoll < 0)
            {
                throw new InvalidOperationException($"epoll_create1 failed (errno {Marshal.GetLastPInvokeError()})");
            }

            for (var i = first; i < end; i++)
            {
                var connection = _connections[i] = Connection.Open(_targets[i], lastSequence);
                var registration = new EpollEvent { Events = EpollIn | EpollRdHup, Data = (ulong)i };
                if (EpollCtl(epoll, EpollCtlAdd, (int)connection.Socket.Handle, ref registration) != 0)
                {
                    throw new InvalidOperationException($"epoll_ctl failed (errno {Marshal.GetLastPInvokeError()})");
                }
            }

            connected.SetResult();
            ReadUntilDone(epoll, first, end);
            finished.SetResult();
        }
        catch (Exception ex)
        {
            connected.TrySetException(ex);
            finished.TrySetException(ex);
        }
        finally
        {
            for (var i = first; i < end; i++)
            {
                _connections[i]?.Socket.Dispose();
            }

            if (epoll >= 0)
            {
                _ = Close(epoll);
            }
        }
    }

    private unsafe void ReadUntilDone(int epoll, int first, int end)
    {
        var remaining = end - first;
        var events = new EpollEvent[256];
        while (remaining > 0 && !_stop)
        {
            int ready;
            fixed (EpollEvent* buffer = events)
            {
                ready = EpollWait(epoll, buffer, events.Length, 100);
            }

            if (ready < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Eintr)
                {
                    continue;
                }

                throw new InvalidOperationException($"epoll_wait failed (errno {errno})");
            }

            for (var e = 0; e < ready; e++)
            {
                var connection = _connections[(int)events[e].Data];
                if (!connection.Done && connection.ReadAvailable())
                {
                    // Level-triggered: a finished client would otherwise keep waking the loop (a keep-alive ping).
                    var unused = default(EpollEvent);
                    _ = EpollCtl(epoll, EpollCtlDel, (int)connection.Socket.Handle, ref unused);
                    remaining--;
                }
            }
        }
    }

    /// <summary>One client: its socket, unparsed bytes, and what it received when.</summary>
    private sealed class Connection : FeedReceipts
    {
        private readonly long _lastSequence;
        private byte[] _buffer = new byte[4096];
        private int _filled;
        private long _previous;

        private Connection(Socket socket, long lastSequence, byte[] leftover, int leftoverLength)
        {
            Socket = socket;
            _lastSequence = lastSequence;
            leftover.AsSpan(0, leftoverLength).CopyTo(_buffer);
            _filled = leftoverLength;
        }

        public Socket Socket { get; }

        public bool Done { get; private set; }

        /// <summary>Blocking connect and handshake (on a reader thread, before measuring); then non-blocking.</summary>
        public static Connection Open(FeedTarget target, long lastSequence)
        {
            var socket = new Socket(target.Server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            if (target.LocalAddress is not null)
            {
                socket.Bind(new IPEndPoint(target.LocalAddress, 0));
            }

            socket.Connect(target.Server);
            var request = $"GET {target.Path} HTTP/1.1\r\nHost: {target.Server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
            socket.Send(Encoding.ASCII.GetBytes(request));
            var response = new byte[4096];
            var length = 0;
            int headerEnd;
            while ((headerEnd = response.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
            {
                var read = socket.Receive(response.AsSpan(length));
                if (read == 0)
                {
                    throw new InvalidDataException("The server closed the connection during the WebSocket handshake.");
                }

                length += read;
            }

            if (!response.AsSpan().StartsWith("HTTP/1.1 101"u8))
            {
                throw new InvalidDataException("WebSocket handshake refused: " + Encoding.ASCII.GetString(response, 0, headerEnd));
            }

            var connection = new Connection(socket, lastSequence, response[(headerEnd + 4)..], length - headerEnd - 4);
            socket.Blocking = false;
            connection.ParseFrames(Stopwatch.GetTimestamp());
            return connection;
        }

        /// <summary>Reads what the socket has and parses whole frames; true once the client is done (last sequence, or dropped).</summary>
        public bool ReadAvailable()
        {
            while (!Done)
            {
                if (_filled == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                var read = Socket.Receive(_buffer.AsSpan(_filled), SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    return false;
                }

                if (error != SocketError.Success || read == 0)
                {
                    Drop(read == 0 ? "closed by the server" : $"socket error {error}");
                    return true;
                }

                _filled += read;
                ParseFrames(Stopwatch.GetTimestamp());
            }

            return true;
        }

        private void Drop(string reason)
        {
            Dropped = reason;
            Done = true;
        }

        private void ParseFrames(long now)
        {
            var at = 0;
            while (!Done && _filled - at >= 2)
            {
                var frame = _buffer.AsSpan(at, _filled - at);
                if ((frame[1] & 0x80) != 0)
                {
                    throw new InvalidDataException("The server sent a masked frame.");
                }

                long payloadLength = frame[1] & 0x7f;
                var header = 2;
                if (payloadLength == 126)
                {
                    header = 4;
                    payloadLength = frame.Length >= 4 ? BinaryPrimitives.ReadUInt16BigEndian(frame[2..]) : -1;
                }
                else if (payloadLength == 127)
                {
                    header = 10;
                    payloadLength = frame.Length >= 10 ? (long)BinaryPrimitives.ReadUInt64BigEndian(frame[2..]) : -1;
                }

                if (payloadLength < 0 || frame.Length < header + payloadLength)
                {
                    break;
                }

                var payload = frame.Slice(header, (int)payloadLength);
                switch (frame[0])
                {
                    case 0x81: // final text frame: one caption update
                        OnUpdate(payload, now);
                        break;
                    case 0x89 or 0x8A: // ping (keep-alive; a run is seconds long, so no pong is owed) or pong
                        break;
                    case 0x88:
                        Drop("close frame from the server");
                        break;
                    default:
                        throw new InvalidDataException($"Unexpected WebSocket frame header 0x{frame[0]:x2} (the feed sends whole text messages).");
                }

                at += header + (int)payloadLength;
            }

            _buffer.AsSpan(at, _filled - at).CopyTo(_buffer);
            _filled -= at;
        }

        private void OnUpdate(ReadOnlySpan<byte> message, long now)
        {
            var at = message.IndexOf(SequenceMarker);
            if (at < 0 || !Utf8Parser.TryParse(message[(at + SequenceMarker.Length)..], out long sequence, out _))
            {
                throw new InvalidDataException("Feed message without a sequence: " + Encoding.UTF8.GetString(message));
            }

            if (sequence <= _previous)
            {
                OutOfOrder++;
                return;
            }

            _previous = sequence;
            Record(sequence, now);
            Done = sequence >= _lastSequence;
        }
    }

    // x86-64 Linux packs epoll_event (12 bytes).
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int fd, ref EpollEvent registration);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int EpollWait(int epoll, EpollEvent* events, int maxEvents, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
