using System.Text.Json;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

public sealed class RealtimeServerErrorTests
{
    private static RealtimeServerError Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return RealtimeServerError.From(document.RootElement);
    }

    [Fact]
    public void Describe_ErrorEventWithoutFields_IsASentence()
    {
        var error = Parse("""{"type":"error"}""");

        Assert.Equal("an error without a code or message", error.Describe(null));
        Assert.Equal("an error without details", error.Summary);
        Assert.Equal("unknown", error.CodeOrUnknown);
    }

    [Fact]
    public void Describe_EmptyErrorObject_IsASentence()
    {
        Assert.Equal("an error without a code or message", Parse("""{"type":"error","error":{"code":"","message":null}}""").Describe(null));
    }

    [Fact]
    public void Describe_FullError_NamesTheSettingAndOurEvent()
    {
        var error = Parse("""{"type":"error","error":{"type":"invalid_request_error","code":"invalid_value","message":"no such item","param":"item_id","event_id":"cs1_7"}}""");

        Assert.Equal("invalid_value: no such item (setting item_id); it refers to our conversation.item.delete cs1_7", error.Describe("conversation.item.delete"));
        Assert.Equal("invalid_value: no such item; it refers to our event cs1_7", (error with { Param = null }).Describe(null));
    }

    [Fact]
    public void From_ErrorTypeWithoutCode_UsesTheType()
    {
        Assert.Equal("server_error: boom", Parse("""{"type":"error","error":{"type":"server_error","message":"boom"}}""").Summary);
    }
}
