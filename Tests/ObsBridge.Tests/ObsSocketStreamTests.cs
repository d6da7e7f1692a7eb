using CaptionSidecar.Tests.Support;
using System.Net;
using System.Net.Sockets;

namespace CaptionSidecar.ObsBridge.Tests;

/// <summary>Blocking reads of the client's TCP stream on a thread of their own, over a loopback connection.</summary>
public sealed class ObsSocketStreamTests
{
    private static async Task<(ObsSocketStream Stream, Socket Peer)> ConnectedPairAsync(CancellationToken ct)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var stream = new ObsSocketStream(new Socket(SocketType.Stream, ProtocolType.Tcp));
        var accept = listener.AcceptSocketAsync(ct);
        await stream.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, ct);
        return (stream, await accept);
    }

    [Fact(Timeout = 30000)]
    public async Task ConnectAsync_NothingListening_ThrowsConnectionRefused()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var stream = new ObsSocketStream(new Socket(SocketType.Stream, ProtocolType.Tcp));

        var ex = await Assert.ThrowsAsync<SocketException>(() => stream.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken));
        Assert.Equal(SocketError.ConnectionRefused, ex.SocketErrorCode);
    }

    [Fact(Timeout = 30000)]
    public async Task ConnectAsync_Connected_SocketIsBlockingWithASendTimeout()
    {
        var (stream, peer) = await ConnectedPairAsync(TestContext.Current.CancellationToken);
        await using var _ = stream;
        using var __ = peer;

        // Plain blocking send(2), never the socket engine: no engine or thread-pool wake-up per request.
        Assert.True(stream.Socket.Blocking);
        Assert.Equal((int)ObsSocketStream.SendTimeout.TotalMilliseconds, stream.Socket.SendTimeout);
    }

    private static Thread StartReader(ObsSocketStream stream, List<object> outcomes)
    {
        var thread = new Thread(() =>
        {
            var buffer = new byte[16];
            try
            {
                while (true)
                {
                    var n = stream.Read(buffer);
                    lock (outcomes)
                    {
                        outcomes.Add(n);
                    }

                    if (n == 0)
                    {
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or IOException)
            {
                lock (outcomes)
                {
                    outcomes.Add(ex);
                }
            }
        })
        { IsBackground = true };
        thread.Start();
        return thread;
    }

    [Fact(Timeout = 30000)]
    public async Task Read_PeerSendsThenCloses_ReturnsTheBytesThenZero()
    {
        var ct = TestContext.Current.CancellationToken;
        var (stream, peer) = await ConnectedPairAsync(ct);
        await using var _ = stream;
        using var __ = peer;
        var outcomes = new List<object>();
        var reader = StartReader(stream, outcomes);

        await peer.SendAsync("abc"u8.ToArray(), ct);
        await Poll.UntilAsync(() => { lock (outcomes) { return outcomes.Count == 1; } }, "the bytes were read", ct);
        peer.Shutdown(SocketShutdown.Send);
        await Poll.UntilAsync(() => !reader.IsAlive, "the reader ended at end of stream", ct);

        Assert.Equal([3, 0], outcomes.Cast<int>());
    }

    [Fact(Timeout = 30000)]
    public async Task Dispose_ThreadBlockedInRead_ReadEnds()
    {
        var ct = TestContext.Current.CancellationToken;
        var (stream, peer) = await ConnectedPairAsync(ct);
        using var _ = peer;
        var outcomes = new List<object>();
        var reader = StartReader(stream, outcomes);
        await Task.Delay(50, ct); // let it block in poll (if it has not yet, the read sees the disposal at once)

        await stream.DisposeAsync();

        await Poll.UntilAsync(() => !reader.IsAlive, "the blocked reader ended", ct);
        var outcome = Assert.Single(outcomes);
        Assert.True(outcome is 0 or ObjectDisposedException or IOException, $"unexpected outcome {outcome}");
    }

    [Fact(Timeout = 30000)]
    public async Task WriteAsync_WritableSocket_CompletesSynchronouslyAndArrives()
    {
        var ct = TestContext.Current.CancellationToken;
        var (stream, peer) = await ConnectedPairAsync(ct);
        await using var _ = stream;
        using var __ = peer;

        var write = stream.WriteAsync("caption"u8.ToArray(), ct);

        Assert.True(write.IsCompleted); // no thread hop on the send path when the socket can take the bytes
        await write;
        var buffer = new byte[16];
        var n = await peer.ReceiveAsync(buffer, ct);
        Assert.Equal("caption"u8.ToArray(), buffer[..n]);
    }
}
