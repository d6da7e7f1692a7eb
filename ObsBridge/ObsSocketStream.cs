using System.Net.Sockets;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// The TCP stream under the client's WebSocket. Writes go straight to <see cref="Socket.SendAsync(ReadOnlyMemory{byte}, SocketFlags, CancellationToken)"/>,
/// which completes on the writing thread when the socket is writable. Reads are asynchronous until
/// <see cref="UseBlockingReads"/>; from then on they block the reading thread (the client's dedicated receive thread) in
/// <c>poll</c> and then <c>recv</c>, so a received frame is handled on that thread without a thread-pool hop.
/// </summary>
/// <remarks>
/// Why poll, not a blocking <see cref="Socket.Receive(Span{byte})"/>: once a .NET socket has run an asynchronous
/// operation (connect, send) it is non-blocking, and a synchronous receive that finds no data waits for the
/// socket engine, which completes it through the thread pool: the hop this class exists to avoid. <see cref="Socket.Poll(int, SelectMode)"/>
/// is a plain <c>poll(2)</c>, and a receive after it finds the data at once. Disposing shuts the socket down, which
/// wakes a thread blocked in poll; the poll also times out periodically and checks for disposal.
/// </remarks>
internal sealed class ObsSocketStream(Socket socket) : Stream
{
    private const int PollMicroseconds = 250_000;

    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private volatile bool _blockingReads;
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

    /// <summary>From now on reads block the calling thread (call it from the one thread that reads).</summary>
    public void UseBlockingReads() => _blockingReads = true;

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_blockingReads)
        {
            return Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }

        // Completes synchronously by design: the caller is the dedicated receive thread.
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<int>(Read(buffer.Span));
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
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
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var sent = await Socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[sent..];
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[Socket.Send(buffer, SocketFlags.None)..];
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
