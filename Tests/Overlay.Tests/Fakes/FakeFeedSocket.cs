using System.Net.WebSockets;
using System.Text.Json;

namespace CaptionSidecar.Overlay.Tests.Fakes;

/// <summary>
/// A WebSocket for <see cref="CaptionFeed.Subscribe"/> that records what the feed sends. Each send completes at
/// once, unless <see cref="HoldSends"/> is set (then it stays pending until <see cref="ReleaseHeldSend"/>, like a
/// client that stopped reading), or <see cref="Failure"/> is set (then it throws, like a client that went away).
/// </summary>
public sealed class FakeFeedSocket : WebSocket
{
    private readonly Lock _gate = new();
    private readonly List<OverlayCaption> _sent = [];
    private TaskCompletionSource? _held;
    private int _inFlight;

    public bool HoldSends { get; set; }

    public Exception? Failure { get; set; }

    /// <summary>Runs inside the next send, on the sender's thread, before the send completes (then it is cleared).</summary>
    public Action? DuringNextSend { get; set; }

    /// <summary>Most sends that were in flight at the same time (the feed promises one).</summary>
    public int MostInFlight { get; private set; }

    public IReadOnlyList<OverlayCaption> Sent
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    public IReadOnlyList<long> SentSequences => [.. Sent.Select(u => u.Sequence)];

    public bool HasHeldSend
    {
        get
        {
            lock (_gate)
            {
                return _held is not null;
            }
        }
    }

    public override WebSocketCloseStatus? CloseStatus => null;

    public override string? CloseStatusDescription => null;

    public override WebSocketState State => WebSocketState.Open;

    public override string? SubProtocol => null;

    /// <summary>Completes the pending send; the feed's continuation then sends what queued behind it.</summary>
    public void ReleaseHeldSend()
    {
        TaskCompletionSource held;
        lock (_gate)
        {
            held = _held ?? throw new InvalidOperationException("No send is held.");
            _held = null;
            HoldSends = false;
        }

        held.SetResult();
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        if (Failure is { } failure)
        {
            throw failure;
        }

        if (DuringNextSend is { } during)
        {
            DuringNextSend = null;
            during();
        }

        Assert.Equal(WebSocketMessageType.Text, messageType);
        Assert.True(messageFlags.HasFlag(WebSocketMessageFlags.EndOfMessage), "the feed sends whole messages");
        var update = JsonSerializer.Deserialize(buffer.Span, OverlayJsonContext.Default.OverlayCaption)!;
        lock (_gate)
        {
            Assert.Null(_held);
            _inFlight++;
            MostInFlight = Math.Max(MostInFlight, _inFlight);
            _sent.Add(update);
            if (!HoldSends)
            {
                _inFlight--;
                return ValueTask.CompletedTask;
            }

            _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ValueTask(_held.Task.ContinueWith(_ => EndHeldSend(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default));
        }
    }

    private void EndHeldSend()
    {
        lock (_gate)
        {
            _inFlight--;
        }
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.None, cancellationToken).AsTask();

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The feed never receives.");

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Abort()
    {
    }

    public override void Dispose()
    {
    }
}
