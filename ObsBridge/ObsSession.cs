using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// One identified obs-websocket connection: the Hello/Identify handshake, one send loop (the only writer of the
/// socket), one receive loop, and the requests waiting for their responses. It ends once, when OBS closes, the socket
/// fails, or its owner disposes it; every pending request then fails with <see cref="ObsConnectionLostException"/>.
/// <see cref="ObsClient"/> owns the reconnecting and the public API.
/// </summary>
internal sealed class ObsSession : IAsyncDisposable
{
    private const int OutboundCapacity = 1024;
    private const int MaxMessageBytes = 64 * 1024 * 1024;
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(1);

    private readonly ClientWebSocket _socket;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
    private readonly ReceiveBuffer _buffer = new();
    private readonly Channel<byte[]> _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(OutboundCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait, // senders wait, bounded by their request timeout
        SingleReader = true,
        // The send loop resumes on the requesting thread instead of hopping through the thread pool; it stays the
        // only task that writes to the socket.
        AllowSynchronousContinuations = true,
    });

    private Task<SessionEnd>? _run;
    private volatile bool _ended;
    private volatile string? _sendFailure;

    private ObsSession(ClientWebSocket socket, TimeProvider time, string? obsVersion, string? obsWebSocketVersion)
    {
        _socket = socket;
        _time = time;
        ObsVersion = obsVersion;
        ObsWebSocketVersion = obsWebSocketVersion;
    }

    /// <summary>OBS Studio version from Hello (null before obs-websocket 5.3).</summary>
    public string? ObsVersion { get; }

    /// <summary>obs-websocket version from Hello.</summary>
    public string? ObsWebSocketVersion { get; }

    /// <summary>True once the session has ended (or is ending).</summary>
    public bool IsEnded => _ended;

    /// <summary>
    /// Connects and identifies within <see cref="ObsClientOptions.ConnectTimeout"/>. OBS closing the socket during the
    /// handshake is an <see cref="ObsRejectedException"/> (4009, 4010, 4011 and any other close code).
    /// </summary>
    /// <exception cref="ObsRejectedException">OBS closed the connection instead of identifying the client.</exception>
    /// <exception cref="TimeoutException">No Hello/Identified within the connect timeout.</exception>
    /// <exception cref="WebSocketException">OBS is not reachable (the inner exception says why).</exception>
    public static async Task<ObsSession> ConnectAsync(ObsClientOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ObsProtocol.SubProtocol);
        socket.Options.KeepAliveInterval = KeepAliveInterval;
        var buffer = new ReceiveBuffer();
        using var timeout = new CancellationTokenSource(options.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await socket.ConnectAsync(options.Url, linked.Token).ConfigureAwait(false);
            var hello = await ReceiveAsync(socket, buffer, linked.Token).ConfigureAwait(false) ?? throw Rejected(socket);
            var (op, d) = ObsProtocol.Parse(hello);
            if (op != ObsOpCode.Hello)
            {
                throw new InvalidDataException($"OBS sent op {(int)op} before Hello.");
            }

            string? auth = null;
            if (d.TryGetProperty("authentication", out var challenge))
            {
                auth = ObsAuthentication.Compute(options.Password ?? string.Empty,
                    challenge.GetProperty("salt").GetString() ?? string.Empty,
                    challenge.GetProperty("challenge").GetString() ?? string.Empty);
            }

            await socket.SendAsync(ObsProtocol.Identify(auth, options.EventSubscriptions), WebSocketMessageType.Text, true, linked.Token)
                .ConfigureAwait(false);
            var reply = await ReceiveAsync(socket, buffer, linked.Token).ConfigureAwait(false) ?? throw Rejected(socket);
            var (replyOp, _) = ObsProtocol.Parse(reply);
            if (replyOp != ObsOpCode.Identified)
            {
                throw new InvalidDataException($"OBS answered Identify with op {(int)replyOp} instead of Identified.");
            }

            return new ObsSession(socket, time,
                d.TryGetProperty("obsStudioVersion", out var v) ? v.GetString() : null,
                d.TryGetProperty("obsWebSocketVersion", out var wv) ? wv.GetString() : null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"no Hello/Identified within {options.ConnectTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts the send and receive loops; messages are handed to <paramref name="onEvent"/> (events, in order, on the
    /// receive loop: it must not block). Completes when the session ends, with why.
    /// </summary>
    public Task<SessionEnd> RunAsync(Action<ObsEvent> onEvent)
    {
        _run ??= RunLoopsAsync(onEvent);
        return _run;
    }

    /// <summary>
    /// Sends a request and waits for the response with the given id. The caller resumes on the thread pool, never on
    /// the receive loop (the response's TaskCompletionSource runs continuations asynchronously).
    /// </summary>
    /// <exception cref="ObsConnectionLostException">The session ended before the response.</exception>
    /// <exception cref="TimeoutException">No response within <paramref name="timeout"/>.</exception>
    public async Task<JsonElement> SendAsync(string id, byte[] payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var response = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = response;
        if (_ended)
        {
            // The session ended between the caller's check and the registration; its fail-all pass may have missed us.
            response.TrySetException(new ObsConnectionLostException());
        }

        // The timeout and the caller's token complete the same TaskCompletionSource as the response does.
        using var timer = new CancellationTokenSource(timeout, _time);
        using var onTimeout = timer.Token.UnsafeRegister(static state => ((TaskCompletionSource<JsonElement>)state!)
            .TrySetException(new TimeoutException()), response);
        using var onCancel = cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<JsonElement>)state!)
            .TrySetCanceled(token), response);
        try
        {
            if (!_outbound.Writer.TryWrite(payload))
            {
                await _outbound.Writer.WriteAsync(payload, timer.Token).ConfigureAwait(false);
            }

            return await response.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException();
        }
        catch (ChannelClosedException ex)
        {
            throw new ObsConnectionLostException("The connection to OBS was lost before the request was sent.", ex);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Asks the session to end (the loops stop and the socket is closed); <see cref="RunAsync"/> completes.</summary>
    public void Stop() => _lifetime.Cancel();

    /// <summary>Ends the session (closing the socket politely, within a second) and waits for its loops.</summary>
    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }

        End();
        _socket.Dispose();
        _lifetime.Dispose();
    }

    private async Task<SessionEnd> RunLoopsAsync(Action<ObsEvent> onEvent)
    {
        await Task.Yield(); // the caller (the client's connection loop) goes on while the loops run
        var sendLoop = SendLoopAsync();
        SessionEnd end;
        try
        {
            while (await ReceiveAsync(_socket, _buffer, _lifetime.Token).ConfigureAwait(false) is { } message)
            {
                Handle(message, onEvent);
            }

            var code = _socket.CloseStatus is { } s ? (int)s : (int?)null;
            end = new SessionEnd(code, string.IsNullOrEmpty(_socket.CloseStatusDescription)
                ? $"OBS closed the connection ({code})"
                : $"OBS closed the connection ({code} {_socket.CloseStatusDescription})");
            await CloseQuietlyAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            end = new SessionEnd(null, _sendFailure ?? "stopped");
            await CloseQuietlyAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or JsonException or InvalidDataException
                                       or KeyNotFoundException or InvalidOperationException or ObjectDisposedException)
        {
            end = new SessionEnd(null, ObsUnreachable.Describe(ex));
        }

        End();
        await sendLoop.ConfigureAwait(false);
        return end;
    }

    private void Handle(byte[] message, Action<ObsEvent> onEvent)
    {
        var (op, d) = ObsProtocol.Parse(message);
        switch (op)
        {
            case ObsOpCode.RequestResponse:
            case ObsOpCode.RequestBatchResponse:
                var id = d.TryGetProperty("requestId", out var rid) ? rid.GetString() : null;
                if (id is not null && _pending.TryRemove(id, out var pending))
                {
                    pending.TrySetResult(d);
                }

                break;
            case ObsOpCode.Event:
                onEvent(ObsProtocol.ParseEvent(d));
                break;
            default:
                // Other ops (a Reidentify answer, ops added by later versions) carry nothing this client uses.
                break;
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (await _outbound.Reader.WaitToReadAsync(_lifetime.Token).ConfigureAwait(false))
            {
                while (_outbound.Reader.TryRead(out var payload))
                {
                    await _socket.SendAsync(payload, WebSocketMessageType.Text, true, _lifetime.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended; the receive loop reports why.
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            _sendFailure = $"Sending to OBS failed: {ex.Message}";
            await _lifetime.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Marks the session ended and fails every request still waiting (idempotent).</summary>
    private void End()
    {
        _ended = true;
        _outbound.Writer.TryComplete();
        var lost = new ObsConnectionLostException();
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.TrySetException(lost);
            }
        }
    }

    private async Task CloseQuietlyAsync()
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout, _time);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing a socket that is already gone: nothing left to tell OBS.
        }
    }

    private static ObsRejectedException Rejected(WebSocket socket) =>
        new(socket.CloseStatus is { } s ? (int)s : null, socket.CloseStatusDescription);

    /// <summary>One whole message, or null when OBS sent a close frame.</summary>
    private static async Task<byte[]?> ReceiveAsync(WebSocket socket, ReceiveBuffer buffer, CancellationToken ct)
    {
        buffer.Message.SetLength(0);
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.Chunk.AsMemory(), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            if (result.EndOfMessage && buffer.Message.Length == 0)
            {
                return buffer.Chunk.AsSpan(0, result.Count).ToArray();
            }

            buffer.Message.Write(buffer.Chunk, 0, result.Count);
            if (buffer.Message.Length > MaxMessageBytes)
            {
                throw new InvalidDataException($"OBS sent a message larger than {MaxMessageBytes} bytes.");
            }

            if (result.EndOfMessage)
            {
                return buffer.Message.ToArray();
            }
        }
    }

    /// <summary>Reused per connection: one receive chunk and one accumulator for messages larger than a chunk.</summary>
    private sealed class ReceiveBuffer
    {
        public byte[] Chunk { get; } = new byte[16 * 1024];

        public MemoryStream Message { get; } = new();
    }
}

/// <summary>Why a session ended.</summary>
/// <param name="CloseCode">The close code OBS sent, if it closed the connection.</param>
/// <param name="Reason">In words, for status and logs.</param>
internal readonly record struct SessionEnd(int? CloseCode, string Reason);
