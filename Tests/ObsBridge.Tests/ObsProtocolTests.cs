using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionSidecar.ObsBridge.Tests;

public sealed class ObsProtocolTests
{
    [Fact]
    public void Compute_ReferenceWorkedExample_MatchesKnownAuthentication()
    {
        var auth = ObsAuthentication.Compute("supersecretpassword", "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI=",
            "+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY=");

        Assert.Equal("1Ct943GAT+6YQUUX47Ia/ncufilbe6+oD6lY+5kaCu4=", auth);
    }

    [Fact]
    public void Compute_DifferentChallenge_GivesDifferentAuthentication()
    {
        var a = ObsAuthentication.Compute("pw", "salt", "challenge-1");
        var b = ObsAuthentication.Compute("pw", "salt", "challenge-2");

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Identify_WithAuthAndSubscriptions_WritesOp1WithIntegerFields()
    {
        var bytes = ObsProtocol.Identify("AUTH", ObsEventSubscription.General | ObsEventSubscription.Inputs | ObsEventSubscription.Outputs);
        var text = Encoding.UTF8.GetString(bytes);

        Assert.Equal("""{"op":1,"d":{"rpcVersion":1,"authentication":"AUTH","eventSubscriptions":73}}""", text);
    }

    [Fact]
    public void Identify_WithoutAuth_OmitsAuthentication()
    {
        var text = Encoding.UTF8.GetString(ObsProtocol.Identify(null, ObsEventSubscription.General));

        Assert.Equal("""{"op":1,"d":{"rpcVersion":1,"eventSubscriptions":1}}""", text);
    }

    [Fact]
    public void Request_WithData_WritesOp6WithTypeIdAndData()
    {
        var bytes = ObsProtocol.Request("r7", "SetInputSettings",
            new JsonObject { ["inputName"] = "Captions (en)", ["inputSettings"] = new JsonObject { ["text"] = "Hallo \"du\"" }, ["overlay"] = true });

        var (op, d) = ObsProtocol.Parse(bytes);

        Assert.Equal(ObsOpCode.Request, op);
        Assert.Equal("SetInputSettings", d.GetProperty("requestType").GetString());
        Assert.Equal("r7", d.GetProperty("requestId").GetString());
        Assert.Equal("Hallo \"du\"", d.GetProperty("requestData").GetProperty("inputSettings").GetProperty("text").GetString());
        Assert.True(d.GetProperty("requestData").GetProperty("overlay").GetBoolean());
    }

    [Fact]
    public void Request_WithoutData_OmitsRequestData()
    {
        var (_, d) = ObsProtocol.Parse(ObsProtocol.Request("r1", "GetVersion", null));

        Assert.False(d.TryGetProperty("requestData", out _));
    }

    [Fact]
    public void RequestBatch_TwoRequests_WritesOp8WithSerialExecutionAndInnerIds()
    {
        var (op, d) = ObsProtocol.Parse(ObsProtocol.RequestBatch("b1",
            [new ObsRequest("GetVersion"), new ObsRequest("GetInputSettings", new JsonObject { ["inputName"] = "x" })], false, 0));

        Assert.Equal(ObsOpCode.RequestBatch, op);
        Assert.Equal(0, d.GetProperty("executionType").GetInt32());
        Assert.False(d.GetProperty("haltOnFailure").GetBoolean());
        var requests = d.GetProperty("requests").EnumerateArray().ToList();
        Assert.Equal(["GetVersion", "GetInputSettings"], requests.Select(r => r.GetProperty("requestType").GetString()));
        Assert.Equal(["0", "1"], requests.Select(r => r.GetProperty("requestId").GetString()));
    }

    [Fact]
    public void ParseResponse_Failure_ReadsCodeAndComment()
    {
        var (op, d) = ObsProtocol.Parse("""{"op":7,"d":{"requestType":"GetInputSettings","requestId":"r2","requestStatus":{"result":false,"code":600,"comment":"No source"}}}"""u8);
        var response = ObsProtocol.ParseResponse(d);

        Assert.Equal(ObsOpCode.RequestResponse, op);
        Assert.False(response.IsSuccess);
        Assert.Equal(600, response.Code);
        Assert.Equal("r2", response.RequestId);
        var ex = Assert.Throws<ObsRequestFailedException>(() => response.EnsureSuccess());
        Assert.Equal(600, ex.Code);
        Assert.Contains("No source", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseEvent_StreamStateChanged_ReadsTypeIntentAndData()
    {
        var (_, d) = ObsProtocol.Parse("""{"op":5,"d":{"eventType":"StreamStateChanged","eventIntent":64,"eventData":{"outputActive":true}}}"""u8);
        var evt = ObsProtocol.ParseEvent(d);

        Assert.Equal("StreamStateChanged", evt.EventType);
        Assert.Equal(64, evt.EventIntent);
        Assert.True(evt.EventData!.Value.GetProperty("outputActive").GetBoolean());
    }

    [Theory]
    [InlineData("""[1,2]""")]
    [InlineData("""{"op":"5","d":{}}""")]
    [InlineData("""{"op":5}""")]
    [InlineData("""{"op":5,"d":[]}""")]
    public void Parse_NotAnObsMessage_Throws(string json)
    {
        Assert.ThrowsAny<JsonException>(() => ObsProtocol.Parse(Encoding.UTF8.GetBytes(json)));
    }
}
