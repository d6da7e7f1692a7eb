using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Glossaries;

/// <summary>The glossary in the events the sidecar sends: the handshake's and the mid-session <c>session.update</c>.</summary>
public sealed class GlossaryProtocolTests
{
    private static readonly Glossary Terms = Glossary.Parse("Kubernetes\nRanked mode | es: modo clasificatoria");

    [Fact]
    public void TranscriptionSessionUpdate_Glossary_TermsFollowThePromptVocabulary()
    {
        var options = new RealtimeOptions { Prompt = "Valorant, OBS" };

        var (message, _) = new RealtimeClientEvents("t").TranscriptionSessionUpdate(options, Terms);

        var transcription = Session(message).GetProperty("audio").GetProperty("input").GetProperty("transcription");
        Assert.Equal("Valorant, OBS Kubernetes, Ranked mode", transcription.GetProperty("prompt").GetString());
    }

    [Fact]
    public void TranslationSessionUpdate_Glossary_InstructionsKeepTheTermsAndUseTheFixedTranslation()
    {
        var options = new RealtimeOptions();

        var (message, _) = new RealtimeClientEvents("t").TranslationSessionUpdate(options, TranslationInstructions.For("es", null, Terms));

        var instructions = Session(message).GetProperty("instructions").GetString()!;
        Assert.Contains("Glossary terms to keep exactly as they are: Kubernetes\n", instructions, StringComparison.Ordinal);
        Assert.Contains("- Ranked mode => modo clasificatoria\n", instructions, StringComparison.Ordinal);
    }

    [Fact]
    public void MidSessionUpdates_ChangeOnlyThePromptOrTheInstructions_AndMatchThePublishedSchema()
    {
        var events = new RealtimeClientEvents("t");
        var options = new RealtimeOptions { Prompt = "OBS" };

        var (transcription, _) = events.TranscriptionPromptUpdate(options, Terms);
        var (translation, _) = events.InstructionsUpdate(TranslationInstructions.For("fr", null, Terms));

        var session = Session(transcription);
        Assert.Equal("transcription", session.GetProperty("type").GetString());
        var input = session.GetProperty("audio").GetProperty("input");
        Assert.Equal(["transcription"], input.EnumerateObject().Select(p => p.Name));
        Assert.Equal("OBS Kubernetes, Ranked mode", input.GetProperty("transcription").GetProperty("prompt").GetString());
        Assert.Equal(["type", "instructions"], Session(translation).EnumerateObject().Select(p => p.Name));
        foreach (var message in new[] { transcription, translation })
        {
            Assert.Empty(RealtimeSchemas.Shared.CheckClientEvent(JsonNode.Parse(message.ToString())!.AsObject()));
        }
    }

    private static JsonElement Session(BinaryData message) => JsonDocument.Parse(message.ToString()).RootElement.GetProperty("session").Clone();
}
