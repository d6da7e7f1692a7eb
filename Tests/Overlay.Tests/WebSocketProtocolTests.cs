using System.Net.WebSockets;
using System.Text;
using CaptionSidecar.Overlay.Tests.Fakes;
using CaptionSidecar.Overlay.WebSockets;

namespace CaptionSidecar.Overlay.Tests;

/// <summary>The WebSocket protocol's plain parts: frame headers, the handshake's key, the client frame parser, on byte arrays.</summary>
public sealed class WebSocketProtocolTests
{
    [Theory]
    [InlineData(0, new byte[] { 0x81, 0 })]
    [InlineData(125, new byte[] { 0x81, 125 })]
    [InlineData(126, new byte[] { 0x81, 126, 0, 126 })]
    [InlineData(65535, new byte[] { 0x81, 126, 0xff, 0xff })]
    [InlineData(65536, new byte[] { 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0 })]
    public void WriteHeader_Length_UsesTheShortestEncoding(int length, byte[] expected)
    {
        var header = new byte[WebSocketFrames.MaxHeaderLength];

        var written = WebSocketFrames.WriteHeader(header, WebSocketFrames.Text, length);

        Assert.Equal(expected, header[..written]);
        Assert.Equal(expected.Length, WebSocketFrames.HeaderLength(length));
    }

    [Fact]
    public void FeedMessageText_PayloadIsASliceOfTheFrame()
    {
        var json = Encoding.UTF8.GetBytes(new string('x', 300));

        var message = FeedMessage.Text(json);

        Assert.Equal([0x81, 126, 1, 44], message.Frame[..4]);
        Assert.Equal(json, message.Payload.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(message.Payload, out var segment));
        Assert.Same(message.Frame, segment.Array);
        Assert.False(message.IsControl);
    }

    [Fact]
    public void BuildClose_StatusAndReason()
    {
        var frame = WebSocketFrames.BuildClose(WebSocketCloseStatus.MessageTooBig, "too big");

        Assert.Equal((byte[])[0x88, 9, 0x03, 0xf1, .. "too big"u8.ToArray()], frame);
        Assert.True(FeedMessage.Control(frame).IsClose);
    }

    [Fact]
    public void ComputeAccept_Rfc6455ExampleKey_GivesTheRfcsAnswer()
    {
        // RFC 6455 section 1.3's worked example.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Theory]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==", true)]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ", false)]
    [InlineData("dGhlIHNhbXBsZSBub25jZXg=", false)]
    [InlineData("not base64 at all!!!!!!!", false)]
    [InlineData("", false)]
    public void IsValidKey_Only16BytesOfBase64(string key, bool valid)
    {
        Assert.Equal(valid, WebSocketHandshake.IsValidKey(key));
    }

    [Fact]
    public void Parse_TextThenPing_SplitAtEveryPossiblePoint_DropsTheTextAndFindsThePing()
    {
        byte[] bytes = [.. RawWebSocket.Frame(WebSocketFrames.Text, "hello"u8), .. RawWebSocket.Frame(WebSocketFrames.Ping, "are you there"u8)];
        for (var split = 0; split <= bytes.Length; split++)
        {
            var events = ParseInChunks(new ClientFrameParser(1024), bytes, [split]);

            var ping = Assert.Single(events);
            Assert.Equal(ClientFrameEventKind.Ping, ping.Kind);
            Assert.Equal("are you there"u8.ToArray(), ping.Payload);
        }
    }

    [Fact]
    public void Parse_OneByteAtATime_FragmentedMessageWithAPingInside_FindsThePingAndTheClose()
    {
        byte[] bytes =
        [
            .. RawWebSocket.Frame(WebSocketFrames.Text, "part one "u8, fin: false),
            .. RawWebSocket.Frame(WebSocketFrames.Ping, "p"u8),
            .. RawWebSocket.Frame(WebSocketFrames.Continuation, new byte[300], fin: false),
            .. RawWebSocket.Frame(WebSocketFrames.Pong, []),
            .. RawWebSocket.Frame(WebSocketFrames.Continuation, "end"u8),
            .. RawWebSocket.Frame(WebSocketFrames.Binary, new byte[70000 % 1000]),
            .. RawWebSocket.Frame(WebSocketFrames.Close, RawWebSocket.ClosePayload(1001, "bye")),
            .. RawWebSocket.Frame(WebSocketFrames.Text, "after the close"u8),
        ];

        var events = ParseInChunks(new ClientFrameParser(1024), bytes, [.. Enumerable.Range(1, bytes.Length)]);

        Assert.Equal([ClientFrameEventKind.Ping, ClientFrameEventKind.Close], events.Select(e => e.Kind));
        Assert.Equal("p"u8.ToArray(), events[0].Payload);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, events[1].Status);
    }

    [Fact]
    public void Parse_CloseWithoutStatus_IsEmpty()
    {
        var events = ParseInChunks(new ClientFrameParser(1024), RawWebSocket.Frame(WebSocketFrames.Close, []), []);

        Assert.Equal(new ClientFrameEvent(ClientFrameEventKind.Close, WebSocketCloseStatus.Empty), Assert.Single(events));
    }

    [Fact]
    public void Parse_MessageOverTheLimit_Fails1009AsSoonAsTheLengthIsKnown()
    {
        var frame = RawWebSocket.Frame(WebSocketFrames.Text, new byte[1025]);
        var parser = new ClientFrameParser(1024);

        // The header (2 + 2 bytes of length) is enough to refuse it; no payload is read.
        var found = parser.Parse(frame.AsSpan(0, 4), out var consumed);

        Assert.Equal(ClientFrameEventKind.Fail, found.Kind);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, found.Status);
        Assert.Equal(4, consumed);
        Assert.True(parser.Ended);
    }

    [Fact]
    public void Parse_FragmentsAddingUpOverTheLimit_Fails1009()
    {
        byte[] bytes =
        [
            .. RawWebSocket.Frame(WebSocketFrames.Text, new byte[600], fin: false),
            .. RawWebSocket.Frame(WebSocketFrames.Continuation, new byte[600]),
        ];

        var found = Assert.Single(ParseInChunks(new ClientFrameParser(1024), bytes, []));

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, found.Status);
    }

    [Fact]
    public void Parse_MessagesUpToTheLimitEach_AreDropped()
    {
        byte[] bytes = [.. RawWebSocket.Frame(WebSocketFrames.Text, new byte[1024]), .. RawWebSocket.Frame(WebSocketFrames.Binary, new byte[1024])];

        Assert.Empty(ParseInChunks(new ClientFrameParser(1024), bytes, [3, 700, 1100]));
    }

    public static TheoryData<string, byte[], WebSocketCloseStatus> Violations => new()
    {
        { "unmasked", RawWebSocket.Frame(WebSocketFrames.Text, "x"u8, masked: false), WebSocketCloseStatus.ProtocolError },
        { "reserved bit", RawWebSocket.Frame(WebSocketFrames.Text, "x"u8, reservedBits: 0x40), WebSocketCloseStatus.ProtocolError },
        { "unknown opcode", RawWebSocket.Frame(0x3, "x"u8), WebSocketCloseStatus.ProtocolError },
        { "fragmented ping", RawWebSocket.Frame(WebSocketFrames.Ping, "x"u8, fin: false), WebSocketCloseStatus.ProtocolError },
        { "long ping", RawWebSocket.Frame(WebSocketFrames.Ping, new byte[126]), WebSocketCloseStatus.ProtocolError },
        { "continuation first", RawWebSocket.Frame(WebSocketFrames.Continuation, "x"u8), WebSocketCloseStatus.ProtocolError },
        { "text inside a message", [.. RawWebSocket.Frame(WebSocketFrames.Text, "x"u8, fin: false), .. RawWebSocket.Frame(WebSocketFrames.Text, "y"u8)], WebSocketCloseStatus.ProtocolError },
        { "1-byte close", RawWebSocket.Frame(WebSocketFrames.Close, [3]), WebSocketCloseStatus.ProtocolError },
        { "close 1005", RawWebSocket.Frame(WebSocketFrames.Close, RawWebSocket.ClosePayload(1005)), WebSocketCloseStatus.ProtocolError },
        { "close reason not UTF-8", RawWebSocket.Frame(WebSocketFrames.Close, [3, 0xe8, 0xff, 0xfe]), WebSocketCloseStatus.InvalidPayloadData },
        { "64-bit length", [0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0], WebSocketCloseStatus.ProtocolError },
        { "huge frame", [0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0], WebSocketCloseStatus.MessageTooBig },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Parse_Violation_FailsWithItsStatusAndReadsNothingMore(string name, byte[] bytes, WebSocketCloseStatus status)
    {
        var parser = new ClientFrameParser(1024);
        var events = ParseInChunks(parser, [.. bytes, .. RawWebSocket.Frame(WebSocketFrames.Ping, "later"u8)], [1]);

        var found = Assert.Single(events);
        Assert.Equal(ClientFrameEventKind.Fail, found.Kind);
        Assert.Equal(status, found.Status);
        Assert.False(string.IsNullOrEmpty(found.Reason), name);
        Assert.True(parser.Ended);
    }

    /// <summary>Feeds <paramref name="bytes"/> cut at <paramref name="cuts"/> (offsets), as separate reads; collects the events.</summary>
    private static List<ClientFrameEvent> ParseInChunks(ClientFrameParser parser, byte[] bytes, int[] cuts)
    {
        var events = new List<ClientFrameEvent>();
        var start = 0;
        foreach (var end in cuts.Where(c => c > 0 && c < bytes.Length).Append(bytes.Length))
        {
            var chunk = bytes.AsSpan(start, end - start);
            while (!chunk.IsEmpty)
            {
                var found = parser.Parse(chunk, out var consumed);
                Assert.InRange(consumed, 1, chunk.Length);
                chunk = chunk[consumed..];
                if (found.Kind != ClientFrameEventKind.None)
                {
                    events.Add(found);
                }
            }

            start = end;
        }

        return events;
    }
}
