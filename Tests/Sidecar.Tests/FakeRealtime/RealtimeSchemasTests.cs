using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.FakeRealtime;

/// <summary>
/// The wire against OpenAI's published Realtime event schemas (Tests/FakeRealtime/Schema): the checker itself, every
/// client event the sidecar can build, and every server event the fake sends in a scripted session. The end-to-end
/// tests check the whole of their traffic the same way (<c>WireSchema.AssertClean</c>).
/// </summary>
public sealed class RealtimeSchemasTests
{
    private static JsonObject Parse(BinaryData message) => JsonNode.Parse(message.ToString())!.AsObject();

    private static void AssertValid(JsonObject evt)
    {
        var problems = RealtimeSchemas.Shared.CheckClientEvent(evt);
        Assert.True(problems.Count == 0, $"{evt.ToJsonString()}\n{string.Join('\n', problems)}");
    }

    [Fact]
    public void Schemas_DescribeTheEventsTheProductUses()
    {
        string[] client = ["session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear", "response.create", "conversation.item.delete", "conversation.item.create"];
        string[] server = ["session.created", "session.updated", "error", "input_audio_buffer.committed", "conversation.item.input_audio_transcription.delta", "conversation.item.input_audio_transcription.completed", "response.done", "response.output_text.delta", "rate_limits.updated"];

        Assert.All(client, t => Assert.Contains(t, RealtimeSchemas.Shared.ClientEventTypes));
        Assert.All(server, t => Assert.Contains(t, RealtimeSchemas.Shared.ServerEventTypes));
    }

    [Fact]
    public void CheckClientEvent_RejectsWhatTheServiceWouldRefuse()
    {
        // The checker can fail: each of these breaks the published shape.
        var missingAudio = new JsonObject { ["type"] = "input_audio_buffer.append" };
        var audioNotAString = new JsonObject { ["type"] = "input_audio_buffer.append", ["audio"] = 12 };
        var unknownType = new JsonObject { ["type"] = "input_audio_buffer.flush" };
        var badTurnDetection = new JsonObject
        {
            ["type"] = "session.update",
            ["session"] = new JsonObject { ["type"] = "transcription", ["audio"] = new JsonObject { ["input"] = new JsonObject { ["turn_detection"] = new JsonObject { ["type"] = "vad_please" } } } },
        };
        var badReference = new JsonObject
        {
            ["type"] = "response.create",
            ["response"] = new JsonObject { ["input"] = new JsonArray(new JsonObject { ["type"] = "item_reference", ["id"] = 5 }) },
        };

        Assert.NotEmpty(RealtimeSchemas.Shared.CheckClientEvent(missingAudio));
        Assert.NotEmpty(RealtimeSchemas.Shared.CheckClientEvent(audioNotAString));
        Assert.Contains("not in OpenAI's published Realtime schemas", Assert.Single(RealtimeSchemas.Shared.CheckClientEvent(unknownType)));
        Assert.NotEmpty(RealtimeSchemas.Shared.CheckClientEvent(badTurnDetection));
        Assert.NotEmpty(RealtimeSchemas.Shared.CheckClientEvent(badReference));
    }

    public static TheoryData<TurnDetectionMode, string, string?, string> Settings() => new()
    {
        { TurnDetectionMode.SemanticVad, "near_field", null, "en" },
        { TurnDetectionMode.SemanticVad, "far_field", "Names: Zoë, Kubernetes.", "pt-BR" },
        { TurnDetectionMode.ServerVad, "none", "", "de" },
        { TurnDetectionMode.Manual, "near_field", "Jargon", "ja" },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void ClientEvents_EveryEventTheSidecarBuilds_MatchesItsSchema(TurnDetectionMode turns, string noise, string? prompt, string language)
    {
        var options = new RealtimeOptions { TurnDetection = turns, NoiseReduction = noise, Prompt = prompt, Language = language };
        var events = new RealtimeClientEvents("evt");

        AssertValid(Parse(events.TranscriptionSessionUpdate(options).Message));
        AssertValid(Parse(events.TranslationSessionUpdate(options, TranslationInstructions.For("es", options.Prompt)).Message));
        AssertValid(Parse(events.Append(new byte[960]).Message));
        AssertValid(Parse(events.Commit().Message));
        AssertValid(Parse(events.Clear().Message));
        AssertValid(Parse(events.DeleteItem("item_1").Message));
        AssertValid(Parse(events.ResponseCreate("item_3", ["item_1", "item_2", "item_3"]).Message));
        AssertValid(Parse(events.ResponseCreate("item_3", ["item_3"]).Message));
    }
}
