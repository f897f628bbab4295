"""The two tiers of the test suite: which tests are slow, in one place.

``python -m pytest`` runs every test (that is what CI runs). ``python -m pytest -m "not slow"``
is the fast tier for working on the code: it leaves out the tests below and runs in under a
minute on two shared cores. ``conftest.py`` marks the tests listed here with ``slow`` when
pytest collects them; nothing else marks them, so this file is the whole list.

A test is slow when it

* drives a program outside Python's process: Chromium, pdflatex or xelatex, a pseudo-terminal,
  a shell pipe, signals to a child process, or a fresh Python interpreter per run;
* searches: Hypothesis properties, fuzzing, 1,500 injection payloads;
* is big on purpose: 100,000-node graphs, 3,000 levels of nesting, thousands of kinks, the
  SymPy check running into its time limit;
* compares with PyTorch (importing torch takes seconds);
* or, whatever it does, takes 0.3 s or more (all its parameters together) on the two-core
  machine while other work runs.

How the list was made, and how to remake it::

    python -m pytest --durations=0 | grep "s call"

then add each function whose calls add up to 0.3 s or more to SLOW_TESTS under its file.
A module whose every test is slow goes in SLOW_MODULES (the fast tier does not even import
it); a new module of browser or notebook tests, or of whole scripts, is slow by its name
(SLOW_MODULE_PATTERNS), and so is a test that re-captures PyTorch's output or runs
``--compare`` (SLOW_TEST_PATTERNS). ``tests/test_tiers.py`` checks that every
name here still names a test, so a renamed test cannot slip into the fast tier unseen.
"""

from __future__ import annotations

from fnmatch import fnmatch

# Every test in these files is slow.
SLOW_MODULES = (
    "test_benchmarks.py",  # runs benchmarks/run.py --quick: every workload in subprocesses
    "test_deterministic.py",  # every command run twice, with its cross-checks
    "test_fuzz.py",  # Hypothesis searches over programs, arguments and CSV files
    "test_helper_op_names.py",  # every command that derives tapes, at every helper op
    "test_html_browser.py",  # headless Chromium
    "test_interrupts.py",  # Ctrl-C, SIGTERM, SIGHUP sent to child processes at known phases
    "test_jacobian_torch.py",  # imports PyTorch
    "test_pipes.py",  # shell pipelines closed early
    "test_run_explain.py",  # whole scripts recorded; backtrace run in child processes; Chromium
    "test_streams.py",  # every command in child processes: narrow encodings, closed pipes
    "test_train_unused_columns.py",  # train on every data path and model, twice each
    "test_work_limits.py",  # commands in child processes under a memory limit (RLIMIT_AS)
)

# Files named like these are slow whoever adds them: a browser, a notebook kernel, whole
# scripts run through `backtrace run` and compared with what PyTorch printed.
SLOW_MODULE_PATTERNS = ("test_*browser*.py", "test_*notebook*.py", "test_*_scripts.py")

# Tests named like these are slow in any file: re-running a script or a case under real
# PyTorch to check its capture (test_the_capture_is_pytorchs) and `backtrace run --compare`,
# which runs the script twice, once under PyTorch (test_compare_reports_...).
SLOW_TEST_PATTERNS = ("test_the_capture*", "test_compare_*")

# file -> the test functions in it that are slow (every parameter of each).
SLOW_TESTS: dict[str, tuple[str, ...]] = {
    "test_api.py": (
        "test_importing_the_package_loads_no_api_module",  # a fresh interpreter
        "test_affine_is_a_result_with_simplifys_report",
    ),
    "test_atomic_outputs.py": (
        "test_a_failure_mid_write_keeps_the_previous_file",
        "test_a_failure_when_there_was_no_file_leaves_none",
    ),
    "test_check.py": (
        "test_sympy_on_a_tower_of_powers_is_skipped_within_its_timeout",
        "test_worked_examples_pass_both_checks",
    ),
    "test_check_verdicts.py": ("test_an_unsettled_difference_is_inconclusive_not_a_disagreement",),
    "test_cli_grad.py": (
        "test_python_dash_m",  # a fresh interpreter
        "test_the_fast_path_imports_neither_sympy_nor_numpy",  # a fresh interpreter
        "test_micrograd_readme_program_as_one_program",
        "test_worked_example_json",
        "test_golden",
    ),
    "test_cli_train.py": (
        "test_a_signal_reports_what_was_finished",
        "test_optimizers_against_torch_optim",
        "test_lecture_and_homework_equal_pytorch_bit_for_bit",
        "test_table_output_is_deterministic",
    ),
    "test_collapse_verdicts.py": (
        "test_the_stacked_layers_sentence_only_where_there_are_stacked_layers",
    ),
    "test_completion.py": (  # fresh interpreters
        "test_commands_complete",
        "test_options_and_choices_complete_in_a_lazily_loaded_command",
        "test_the_source_scripts",
    ),
    "test_data.py": (
        "test_property_known_outcome_and_paths_agree",
        "test_property_fast_path_never_accepts_what_the_exact_path_rejects",
    ),
    "test_digits_and_widths.py": (
        "test_no_word_is_cut_at_any_width",
        "test_digits_shortens_what_people_read",
        "test_digits_leaves_json_whole",
    ),
    "test_error_catalogue.py": ("test_catalogue_entry",),
    "test_forward_cli.py": ("test_forward_mode_refuses_more_tangents_than_it_keeps",),
    "test_grade.py": ("test_a_filled_in_worksheet_is_graded",),
    "test_higher_cli.py": (
        "test_order_ten_checks_the_orders_sympy_can_finish",
        "test_order_ten_of_tanh_grows_its_tapes_and_agrees_with_sympy",
    ),
    "test_higher_ops.py": ("test_every_op_differentiated_twice_matches_sympys_hessian",),
    "test_html.py": (
        "test_the_same_program_gives_the_same_bytes",
        "test_minus_o_picks_the_format_from_the_suffix",
    ),
    "test_i18n.py": (
        "test_no_english_left_in_a_chinese_view",
        "test_json_is_byte_identical_in_both_languages",
        "test_the_catalogues_match_the_code",
        "test_json_of_the_other_modes_is_byte_identical_in_both_languages",
        "test_chinese_tables_align",
        "test_higher_order_and_minimize_machine_output_does_not_change",
        "test_hessian_notes_read_back_into_chinese",
        "test_a_message_without_an_entry_and_an_entry_without_a_message_are_found",
        "test_latex_in_chinese_is_real_text_for_xelatex",  # xelatex
        "test_a_chinese_view_keeps_its_punctuation_of_one_width",
    ),
    "test_injection.py": (
        "test_payload_is_refused_and_nothing_runs",
        "test_payload_in_a_real_process",
        "test_payloads_from_a_file_stdin_and_train_in_a_real_process",
    ),
    "test_jacobian.py": (
        "test_a_layer_matches_the_hand_derived_jacobian_in_every_mode",
        "test_a_scalar_output_gives_the_gradient",
    ),
    "test_json_numbers.py": ("test_many_random_floats_as_repr",),
    "test_latex.py": (
        "test_no_raw_unicode_and_the_marks_are_mapped",
        "test_the_fragments_compile",  # pdflatex
        "test_a_failed_check_compiles",  # pdflatex
        "test_the_golden_fragments_compile_together",  # pdflatex
    ),
    "test_leading_minus.py": (
        "test_train_model_after_a_minus_any_letter",
        "test_grad_minus_function_call",
        "test_grad_expression_after_a_minus_any_letter_options_after",
        "test_minimize_expression_after_a_minus_any_letter",
        "test_a_binding_beginning_with_minus_is_a_number_error",
        "test_graph_expression_after_a_minus_any_letter",
        "test_grad_expression_after_a_minus_any_letter_options_before",
    ),
    "test_limits.py": (
        "test_thousands_of_kinks_keep_their_notes_short",
        "test_a_deep_tower_gets_its_sympy_check",
        "test_thousands_of_variables_keep_the_checks_within_their_time",
        "test_with_the_limit_raised_3000_levels_parse_and_evaluate",
        "test_a_model_of_5000_terms_trains",
        "test_an_endless_csv_is_refused_not_read_into_memory",
        "test_a_huge_limit_is_fine",
        "test_an_endless_file_ends_in_the_length_limit",
        "test_tiny_powers_never_make_sympy_build_a_giant_integer",
        "test_3000_nested_parentheses_with_the_check_and_every_format",
        "test_5000_levels_are_refused_cleanly",
    ),
    "test_markdown.py": (
        "test_a_hostile_comment_stays_inside_its_code",
        "test_the_table_cell_pipe_is_escaped_once_and_headings_keep_it_plain",
        "test_the_notebook_markdown_is_the_same_safe_text",
    ),
    "test_minimize.py": ("test_rosenbrock_gd_matches_a_plain_python_loop_over_10000_steps",),
    "test_minimize_cli.py": ("test_a_signal_reports_the_finished_steps",),
    "test_misspelt_options.py": (
        "test_each_option_misspelt_after_the_bindings",
        "test_a_name_of_the_expression_still_binds",
    ),
    "test_number_limits.py": (
        "test_a_binding_32_deep_works_in_every_command",
        "test_worksheet_cell_nested_too_deep",
        "test_a_huge_number_in_a_binding_of_every_command",
        "test_a_shape_of_32_sizes_and_a_list_32_deep_train",
    ),
    "test_numerics.py": (
        "test_the_documented_table_is_what_the_code_does",
        "test_value_and_gradient_or_a_domain_error",
    ),
    "test_parser.py": ("test_a_100000_term_sum_parses_without_recursion",),
    "test_properties.py": (  # Hypothesis
        "test_programs_round_trip",
        "test_deep_nesting_never_raises_recursion_error",
        "test_gradient_agrees_with_sympy_and_central_differences",
        "test_the_forward_value_agrees_with_sympy",
        "test_unparse_then_parse_gives_the_same_tree",
        "test_any_text_parses_or_fails_cleanly",
    ),
    "test_quiz.py": (
        "test_every_answer_is_a_short_exact_decimal_at_levels_one_and_two",
        "test_the_key_is_grads_own_numbers",
    ),
    "test_quiz_latex.py": ("test_the_worksheet_compiles",),  # pdflatex
    "test_readme.py": ("test_readme_command_output", "test_readme_python_examples"),
    "test_recording.py": (
        "test_every_format_is_byte_for_byte_grads",
        "test_a_deep_graph_needs_no_recursion",
    ),
    "test_run.py": (  # each runs the script in fresh interpreters: python's and backtrace's
        "test_the_script_runs_as_main_with_its_arguments_folder_and_stdin",
        "test_endings_and_errors_are_pythons",
        "test_the_script_from_stdin",
        "test_ctrl_c_prints_the_traceback_and_exits_130",
        "test_the_run_imports_neither_sympy_nor_rich_before_the_script",
        "test_what_backtraces_torch_does_not_have_raises_where_the_script_uses_it",
    ),
    "test_same_files.py": (
        "test_two_options_naming_one_file_are_refused",
        "test_different_files_are_fine",
    ),
    "test_schemas.py": (
        "test_a_long_list_is_validated_on_a_sample_of_its_rows",
        "test_simplify_affine_and_not",
    ),
    "test_step.py": (  # a pseudo-terminal
        "test_stepping_at_a_terminal",
        "test_stepping_with_stdout_in_a_pipe_is_refused",
    ),
    "test_stream.py": ("test_streamed_batches_are_the_in_memory_updates_bit_for_bit",),
    "test_stream_cache.py": (
        "test_swept_chunks_leave_the_process_memory",
        "test_a_signal_while_the_cache_is_written_removes_it",
        "test_a_signal_while_training_removes_the_cache",
    ),
    "test_tape.py": (
        "test_a_100000_node_expression_evaluates_and_differentiates",
        "test_a_chain_100000_nodes_deep",
    ),
    "test_tensors.py": (
        "test_torch_float64_agrees",  # PyTorch
        "test_random_shapes_agree_with_finite_differences",
        "test_gradients_agree_with_finite_differences_and_sympy",
        "test_markdown_and_latex_and_graph_work_with_arrays",
    ),
    "test_torchlike_autograd.py": (
        "test_fused_add_rounds_once",
        "test_torch_imports_no_click_rich_or_sympy",
    ),
    "test_train.py": ("test_optimizers_match_torch_optim",),  # PyTorch
    "test_train_tensors.py": (
        "test_torch_float64_full_batch_agrees",  # PyTorch
        "test_float32_and_trace_and_explain_step_with_arrays",
        "test_a_linear_model_plateaus_on_xor_and_the_network_fits_it",
    ),
    "test_wrt.py": (
        "test_grad_forward_mode_seeds_only_the_picked_elements",
        "test_jacobian_of_an_element_and_a_row",
        "test_newton_counts_only_the_picked_elements",
        "test_grad_table_shows_an_element_as_a_scalar",
        "test_grad_reports_one_element_and_a_row",
    ),
}


def is_slow_module(module: str) -> bool:
    """Whether every test of the file MODULE (``test_x.py``) is slow."""
    return module in SLOW_MODULES or any(fnmatch(module, pattern)
                                         for pattern in SLOW_MODULE_PATTERNS)


def is_slow(module: str, function: str) -> bool:
    """Whether the test FUNCTION (its name without parameters) of the file MODULE
    (``test_x.py``) belongs to the slow tier."""
    return (is_slow_module(module) or function in SLOW_TESTS.get(module, ())
            or any(fnmatch(function, pattern) for pattern in SLOW_TEST_PATTERNS))
