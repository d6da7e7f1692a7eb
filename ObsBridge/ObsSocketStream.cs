using System.Net;
using System.Net.Sockets;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// The TCP stream under the client's WebSocket. The socket never runs an asynchronous operation, so the runtime's
/// socket engine never watches it: writes are plain <c>send(2)</c> on the writing thread (bounded by
/// <see cref="SendTimeout"/>), reads block the reading thread (the client's dedicated receive thread) in <c>poll(2)</c>
/// and then <c>recv(2)</c>, so a received frame is handled on that thread, and no engine thread or thread-pool worker
/// wakes for it.
/// </summary>
/// <remarks>
/// Why it matters: once a .NET socket has run one asynchronous operation it is registered with the socket engine's
/// epoll, and every readable or writable edge on it then wakes the engine thread, which queues a thread-pool work item;
/// on two cores those wake-ups (and the workers' spinning that follows) compete with the receive thread on every
/// request. <see cref="ConnectAsync"/> therefore connects with a non-blocking <c>connect(2)</c> and <c>poll(2)</c>.
/// Disposing shuts the socket down, which wakes a thread blocked in poll; the poll also times out periodically and
/// checks for disposal and cancellation.
/// </remarks>
internal sealed class ObsSocketStream(Socket socket) : Stream
{
    private const int PollMicroseconds = 250_000;

    /// <summary>How long a send may block (OBS not reading) before the connection counts as lost.</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private int _readOffset;
    private int _readCount;
    private int _disposed;

    /// <summary>The socket (for tests and socket options).</summary>
    public Socket Socket { get; } = socket;

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Connects the socket to <paramref name="host"/>:<paramref name="port"/> without the socket engine: a non-blocking
    /// <c>connect(2)</c> per resolved address, then <c>poll(2)</c> for writability (checking
    /// <paramref name="cancellationToken"/> between short polls), then back to blocking mode for plain sends.
    /// </summary>
    public async Task ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses.Where(a => a.AddressFamily == Socket.AddressFamily || Socket.DualMode))
        {
            try
            {
                await Task.Run(() => ConnectOne(new IPEndPoint(address, port), cancellationToken), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException ex)
            {
                last = ex;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private void ConnectOne(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        Socket.Blocking = false;
        try
        {
            Socket.Connect(endpoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
        {
            while (!Socket.Poll(100_000, SelectMode.SelectWrite) && !Socket.Poll(0, SelectMode.SelectError))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (Socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error) is int error and not 0)
            {
                throw new SocketException(error);
            }
        }

        Socket.Blocking = true;
        Socket.SendTimeout = (int)SendTimeout.TotalMilliseconds;
    }

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Completes synchronously by design: the caller is the dedicated receive thread (or the upgrade handshake).
        try
        {
            return new ValueTask<int>(Read(buffer.Span, cancellationToken));
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer) => Read(buffer, CancellationToken.None);

    private int Read(Span<byte> buffer, CancellationToken cancellationToken)
    {
        // The WebSocket reads a frame header and then its payload: one recv into this buffer serves both (and any
        // frames behind them), so a small message costs one poll and one recv.
        if (_readCount > 0)
        {
            return TakeBuffered(buffer);
        }

        while (true)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (Socket.Poll(PollMicroseconds, SelectMode.SelectRead))
                {
                    // Readable: data, end of stream (0) or an error, all without waiting.
                    if (buffer.Length >= _readBuffer.Length)
                    {
                        return Socket.Receive(buffer, SocketFlags.None);
                    }

                    _readOffset = 0;
                    _readCount = Socket.Receive(_readBuffer, SocketFlags.None);
                    return _readCount == 0 ? 0 : TakeBuffered(buffer);
                }
            }
            catch (SocketException ex)
            {
                throw new IOException($"Reading from OBS failed: {ex.Message}", ex);
            }
        }
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    private int TakeBuffered(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _readCount);
        _readBuffer.AsSpan(_readOffset, n).CopyTo(destination);
        _readOffset += n;
        _readCount -= n;
        return n;
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Completes on the writing thread: a caption update is a few hundred bytes and the kernel takes it at once.
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            return ValueTask.FromException(ex);
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            while (!buffer.IsEmpty)
            {
                buffer = buffer[Socket.Send(buffer, SocketFlags.None)..];
            }
        }
        catch (SocketException ex)
        {
            throw new IOException($"Writing to OBS failed: {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            try
            {
                // Wakes a thread blocked in poll or recv on this socket.
                Socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException ex)
            {
                _ = ex; // not connected any more: nothing to shut down
            }

            Socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
