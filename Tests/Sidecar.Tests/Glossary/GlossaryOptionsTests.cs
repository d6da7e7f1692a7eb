using CaptionSidecar.Hosting;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Glossaries;

/// <summary>The start-up check of <c>Realtime:GlossaryFile</c> (<c>--glossary</c>).</summary>
public sealed class GlossaryOptionsTests
{
    [Fact]
    public void Validate_RelativeMissingFile_NamesWhereItLookedFromTheCurrentFolder()
    {
        var name = $"missing-glossary-{Guid.NewGuid():N}.txt";

        var result = new RealtimeOptionsValidator().Validate(null, new RealtimeOptions { GlossaryFile = name });

        Assert.True(result.Failed);
        Assert.Equal($"Realtime:GlossaryFile (--glossary): the file '{Path.Combine(Environment.CurrentDirectory, name)}' does not exist.", result.FailureMessage);
    }

    [Fact]
    public void Validate_GlossaryThatFitsWithThePrompt_Succeeds_AndOneCharacterMoreFails()
    {
        var path = Path.Combine(Path.GetTempPath(), $"glossary-{Guid.NewGuid():N}.txt");
        try
        {
            // "P " + the term: exactly the 1024-character limit.
            File.WriteAllText(path, new string('k', 1022));
            Assert.True(new RealtimeOptionsValidator().Validate(null, new RealtimeOptions { GlossaryFile = path, Prompt = "P" }).Succeeded);

            var result = new RealtimeOptionsValidator().Validate(null, new RealtimeOptions { GlossaryFile = path, Prompt = "PP" });
            Assert.True(result.Failed);
            Assert.Contains("make 1025 characters, the limit is 1024", result.FailureMessage, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
