using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The end-to-end tests' check that the wire matched OpenAI's published Realtime schemas, both ways.</summary>
internal static class WireSchema
{
    /// <summary>Fails with every problem when any event the sidecar sent, or the fake answered, broke its schema.</summary>
    public static void AssertClean(FakeRealtimeServer server)
    {
        var violations = server.SchemaViolations;
        Assert.True(violations.Count == 0, "Events that do not match OpenAI's published Realtime schemas:\n" + string.Join('\n', violations));
    }
}
