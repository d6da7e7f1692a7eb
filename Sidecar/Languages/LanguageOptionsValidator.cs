using Microsoft.Extensions.Options;

namespace CaptionSidecar.Languages;

/// <summary>Checks that every configured language code is well formed, naming the setting to fix.</summary>
internal sealed class LanguageOptionsValidator : IValidateOptions<LanguageOptions>
{
    public ValidateOptionsResult Validate(string? name, LanguageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        Check(options.Enabled, "Languages:Enabled (--languages)", failures);
        Check(options.Available, "Languages:Available", failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string? list, string setting, List<string> failures)
    {
        if (list is null)
        {
            return;
        }

        try
        {
            LanguageSwitchboard.ParseCodes(list);
        }
        catch (FormatException ex)
        {
            failures.Add($"{setting}: {ex.Message}");
        }
    }
}
